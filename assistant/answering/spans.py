"""Find the sub-span of a sentence that answers a question: a number, a date, a place, names.

Every span returned is an exact substring of the sentence, so it can be shown highlighted in place.
"""

from __future__ import annotations

import re

from assistant.lexical import tokenize

_DAY = r"(?:Senin|Selasa|Rabu|Kamis|Jumat|Jum'at|Sabtu|Minggu|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH = r"(?:Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|Desember|January|February|March|June|July|August|October|December)"
_DATE = re.compile(
    rf"{_DAY}(?:\s*\(\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\))?|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|{_MONTH}\s+\d{{4}}|\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b"
)
# A number with the word it counts ("12 perusahaan"); digits inside dates such as 18/11 are not counts.
_NUMBER = re.compile(r"(?<![\d/.,])\d+(?:[.,]\d+)*(?![\d/])(?:\s+(?P<unit>[^\W\d_]+))?")
_CLOCK_TIME = re.compile(r"\b(?:pukul\s+)?\d{1,2}[.:]\d{2}(?:\s*(?:WIB|WITA|WIT|am|pm))?\b", re.IGNORECASE)
_DURATION = re.compile(
    r"\b\d+(?:[.,]\d+)?\s+(?:jam|menit|hari|minggu|bulan|tahun|hours?|minutes?|days?|weeks?|months?|years?)\b", re.IGNORECASE
)
_COUNT_TRIGGER = re.compile(r"\b(?:how many|how much|berapa(?:kah)?|jumlah|number of)\s+(?P<rest>.*)", re.IGNORECASE)
_CAPITALISED = r"[A-Z][\w'’-]*"
_PLACE = re.compile(rf"\b(?:di|ke|dari)\s+({_CAPITALISED}(?:(?:\s+|,\s*|\s+dan\s+){_CAPITALISED})*)")
_NAME = re.compile(rf"{_CAPITALISED}(?:\s+{_CAPITALISED})+")

# Capitalised words that are titles, institutions or places, not the names of people.
_NOT_PERSON = frozenset(
    """
    jakarta antara menteri komunikasi digital wakil perdagangan untuk internasional departemen as ri
    duta besar menkomdigi wamenkomdigi dubes sekretaris jenderal direktur sumber daya perangkat pos
    informatika konselor urusan komersial kedutaan penasihat kebijakan senior pejabat kantor kementerian
    komdigi pusat indonesia amerika serikat badan pembangunan ibu kota ibukota nusantara denpasar dalam
    sementara kami pertemuan kerja ai melalui rencana dalam
    """.split()
)


def answer_spans(question_kind: str, question: str, sentence: str) -> tuple[str, ...]:
    """The parts of `sentence` that answer a question of `question_kind` (possibly none)."""
    asked = set(tokenize(question))
    if question_kind == "how_many":
        return _counts(question, sentence, asked)
    if question_kind == "time":
        return _first_new((m.group() for m in _CLOCK_TIME.finditer(sentence)), asked)
    if question_kind == "duration":
        return _first_new((m.group() for m in _DURATION.finditer(sentence)), asked)
    if question_kind == "when":
        return _first_new((m.group() for m in _DATE.finditer(sentence)), asked)
    if question_kind == "where":
        return _first_new((m.group(1) for m in _PLACE.finditer(sentence)), asked)
    if question_kind in ("who", "role"):
        role = _role_of_named_person(question, sentence, asked)
        if role or question_kind == "role":
            return role
        return _people(question, sentence, asked)
    return ()


def _role_of_named_person(question: str, sentence: str, asked: set[str]) -> tuple[str, ...]:
    """For "Who is Mira Tayyiba?" / "Apa jabatan Eric Hsu?": the title written before the name.

    Indonesian news puts the office right before the name ("Sekretaris Jenderal Mira Tayyiba"),
    sometimes with an inner `dan` ("Direktur Jenderal Sumber Daya Perangkat Pos dan Informatika
    Ismail"). Only when the question is about that person, not about what they did.
    """
    from assistant.answering.question import content_words

    for match in _NAME.finditer(sentence):
        words = match.group().split()
        split_at = _title_length(words)
        name_words = {word.lower() for word in words[split_at:]}
        if split_at == 0 or split_at == len(words) or not name_words & asked:
            continue
        other = [w for w in content_words(question) if w not in name_words and w not in _ROLE_QUESTION_WORDS]
        if other and not re.search(_ROLE_QUESTION, question.lower()):
            continue  # "Who accompanied Meutya Hafid?" is about her companions, not her title
        start = match.start()
        while True:  # "Dubes AS untuk Indonesia", "… Pos dan Informatika": titles joined by a small word
            before = re.search(rf"({_CAPITALISED}(?:\s+{_CAPITALISED})*)\s+(?:dan|untuk)\s+$", sentence[:start])
            if not before or not all(word.lower() in _NOT_PERSON for word in before.group(1).split()):
                break
            start = before.start()
        return (sentence[start : match.end()],)
    return ()


_ROLE_QUESTION = r"\b(jabatan|menjabat|posisi|peran|title|role|position|job)\b"
_ROLE_QUESTION_WORDS = {"jabatan", "posisi", "peran", "title", "role", "position", "job", "hold", "holds", "menjabat", "sebagai", "itu"}


def _counts(question: str, sentence: str, asked: set[str]) -> tuple[str, ...]:
    """A number in the sentence that counts what the question counts.

    "Berapa perusahaan…?" wants "12 perusahaan"; "How many smart cities…?" is not answered by
    "12 perusahaan". When the counted word is unknown (an English word outside the glossary), any
    number will do.
    """
    from assistant.lexical import STOPWORDS, english_to_indonesian, glossary_words, stem

    numbers = [m for m in _NUMBER.finditer(sentence) if not set(tokenize(m.group())) <= asked]
    if not numbers:
        return ()
    trigger = _COUNT_TRIGGER.search(question)
    counted = [t for t in tokenize(trigger.group("rest")) if t not in STOPWORDS][:3] if trigger else []
    glossary = english_to_indonesian()
    wanted = {stem(word) for token in counted for word in (glossary_words(token) or [token])} - {"as", "amerika", "indonesia"}
    if not wanted:
        return (numbers[0].group(),)
    for match in numbers:
        if match.group("unit") and stem(match.group("unit").lower()) in wanted:
            return (match.group(),)
    from assistant.answering.language import detect_language

    known = detect_language(question) == "id" or any(token in glossary for token in counted)
    return () if known else (numbers[0].group(),)


def _title_length(words: list[str]) -> int:
    """How many of a capitalised run's leading words are a title or institution, not the name."""
    split_at = 0
    while split_at < len(words) and words[split_at].lower().strip(",;") in _NOT_PERSON:
        split_at += 1
    return split_at


def _people(question: str, sentence: str, asked: set[str]) -> tuple[str, ...]:
    """Names of people in the sentence that answer a who-question.

    Indonesian news writes a role before a name ("Dubes AS untuk Indonesia Kamala Shirin Lakhdhir").
    "Who is the ambassador?" keeps the name after the ambassador's title; "Who accompanied the
    ambassador?" drops it, since the ambassador is who the question is about.
    """
    people: list[tuple[str, str]] = []  # (text between the previous name and this one, name)
    previous_end = 0
    for match in _NAME.finditer(sentence):
        words = match.group().split()
        split_at = _title_length(words)
        if split_at == len(words):
            continue
        name = " ".join(words[split_at:])
        name_start = match.start() + len(match.group()) - len(name)
        if not set(tokenize(name)) & asked:
            people.append((sentence[previous_end:name_start].lower(), name))
        previous_end = match.end()
    holders = _holders_of_asked_office(question, people)
    if holders:
        return holders
    roles = [role for role, aliases in _ROLES.items() if any(re.search(rf"\b{alias}\b", question.lower()) for alias in aliases)]
    if roles and len(people) > 1:
        holders = [(title, name) for title, name in people if any(_title_has_role(title, role) for role in roles)]
        if _other_content(question, roles):
            people = [person for person in people if person not in holders] or people
        else:
            people = holders or people
    return tuple(name for _, name in people)


def _holders_of_asked_office(question: str, people: list[tuple[str, str]]) -> tuple[str, ...]:
    """"Who is the Secretary General?" → the people whose written title best matches the office.

    Compared word for word, not by stem: Sastrawi stems "Kedutaan" (embassy) to "duta", which would
    make every embassy official an ambassador ("duta besar").
    """
    from assistant.answering.question import identity_subject
    from assistant.lexical import ABBREVIATIONS, STOPWORDS, english_to_indonesian

    subject = identity_subject(question)
    if not subject:
        return ()
    glossary = english_to_indonesian()
    terms = [
        [alternative.split() for alternative in glossary.get(token, (token,))] + ([ABBREVIATIONS[token].split()] if token in ABBREVIATIONS else [])
        for token in tokenize(subject)
        if token not in STOPWORDS
    ]
    if not terms:
        return ()

    def matches(term: list[list[str]], title: str) -> float:
        """1 when the title writes the office word as asked, ½ when only a contraction's expansion has it
        ("Menkomdigi" is the minister; "Wamenkomdigi" expands to "wakil menteri komunikasi digital")."""
        words = set(tokenize(title))
        if any(all(part in words for part in alternative) for alternative in term):
            return 1.0
        expanded = {part for word in words for part in ABBREVIATIONS.get(word, "").split()}
        return 0.5 if any(all(part in words | expanded for part in alternative) for alternative in term) else 0.0

    # Score each title by the office words it has, rarer words counting more (1 / how many titles
    # have them): "Sekjen Komdigi" is Mira Tayyiba's office ("Sekretaris Jenderal"), though the
    # minister's title also says "Komdigi".
    weights = [1 / max(1, sum(matches(term, title) > 0 for title, _ in people)) for term in terms]
    scores = {name: sum(w * matches(term, title) for term, w in zip(terms, weights)) for title, name in people}
    best = max(scores.values(), default=0)
    return tuple(name for name, score in scores.items() if best and score == best)


# Roles a question may name in English or Indonesian, and how Indonesian news writes them before a name.
_ROLES = {
    "minister": ("minister", "menteri", "menkomdigi"),
    "deputy minister": ("deputy minister", "wakil menteri", "wamen"),
    "ambassador": ("ambassador", "duta besar", "dubes"),
}
_ROLE_TITLES = {
    "minister": ("menteri komunikasi", "menkomdigi"),
    "deputy minister": ("wakil menteri", "wamenkomdigi"),
    "ambassador": ("duta besar", "dubes"),
}


def _title_has_role(title: str, role: str) -> bool:
    return any(re.search(rf"\b{alias}\b", title) for alias in _ROLE_TITLES[role])


def _other_content(question: str, roles: list[str]) -> list[str]:
    from assistant.answering.question import content_words

    role_words = {word for role in roles for alias in _ROLES[role] for word in alias.split()}
    generic = {"us", "as", "indonesia", "ri", "amerika", "serikat", "american", "indonesian", "who", "siapa", "name", "nama"}
    return [word for word in content_words(question) if word not in role_words and word not in generic]


def _first_new(candidates, asked: set[str]) -> tuple[str, ...]:
    for text in candidates:
        if not set(tokenize(text)) <= asked:
            return (text,)
    return ()


