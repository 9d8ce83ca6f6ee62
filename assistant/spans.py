"""The part of a sentence that answers a question: a date, a clock time, a count, an amount, a place,
names, an office. A span is a highlight, never a gate: an answer cites its sentence with or without one.

Every span returned is an exact substring of the sentence. The finders know languages (from the
`Lexicon`), not articles: what counts as a title, a unit or a month is read from the data files.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.lexicon import Lexicon, keys, stem_en, tokenize
from assistant.query import Query

_CAPITALISED = r"[A-Z][\w'’.-]*"
_NAME_RUN = re.compile(rf"{_CAPITALISED}(?:\s+{_CAPITALISED})*")
_NUMBER = r"\d+(?:[.,]\d+)*"


def answer_spans(query: Query, sentence: str, lexicon: Lexicon) -> tuple[str, ...]:
    """The parts of `sentence` that answer `query`, for each kind it asks (possibly none)."""
    spans: list[str] = []
    for kind in query.kinds:
        for span in _spans_for(kind, query, sentence, lexicon):
            if span not in spans:
                spans.append(span)
    return tuple(spans)


def _spans_for(kind: str, query: Query, sentence: str, lexicon: Lexicon) -> tuple[str, ...]:
    asked = set(tokenize(query.text))
    if kind == "when":
        return _first_new(dates(sentence, lexicon), asked)
    if kind == "time":
        return _first_new((match.group() for match in lexicon.regex("clock_time", re.IGNORECASE).finditer(sentence)), asked)
    if kind == "duration":  # "How long …?" asks for a time, or for a length when no time is given
        return _first_new(quantities(sentence, lexicon, categories=("time",)), asked) or _first_new(
            quantities(sentence, lexicon, categories=("length",)), asked
        )
    if kind in ("how_many", "how_much"):
        return counts(query, sentence, lexicon, asked)
    if kind == "where":
        return _first_new(places(sentence, lexicon), asked)
    if kind == "role":
        return role_of_named_person(query, sentence, lexicon)
    if kind == "who":
        if query.subject and _is_name(query.subject, lexicon):
            return role_of_named_person(query, sentence, lexicon)
        return people(query, sentence, lexicon)
    if kind == "why":
        match = lexicon.regex("reason_clause", re.IGNORECASE).search(sentence)
        return (match.group().strip(" ,"),) if match else ()
    return ()


# -- dates, times, quantities ---------------------------------------------------------------------


@lru_cache(maxsize=4)
def _date_pattern(calendar_words: tuple[tuple[str, str], ...], year_preposition: str, ordinal_suffix: str) -> re.Pattern[str]:
    days = "|".join(re.escape(word) for word, kind in calendar_words if kind == "day")
    months = "|".join(re.escape(word) for word, kind in sorted(calendar_words, key=lambda item: -len(item[0])) if kind == "month")
    day = rf"(?:{days})"
    month = rf"(?:{months})\.?"
    return re.compile(
        rf"\b(?:{day}(?:,?\s*\(?\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\)?|,?\s+\d{{1,2}}\s+{month}(?:\s+\d{{4}})?|,?\s+{month}\s+\d{{1,2}}(?:,?\s+\d{{4}})?)?"
        rf"|\d{{1,2}}\s+{month}(?:\s+\d{{4}})?|{month}\s+\d{{1,2}}(?:{ordinal_suffix})?(?:,?\s+\d{{4}})?|{month}\s+\d{{4}}"
        rf"|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|(?:{year_preposition})\s+(?:19|20)\d{{2}})(?!\w)",
        re.IGNORECASE,
    )


def dates(sentence: str, lexicon: Lexicon) -> list[str]:
    calendar_words = tuple(sorted((word, kind) for word, (kind, _) in lexicon.calendar.items()))
    pattern = _date_pattern(calendar_words, lexicon.patterns["year_preposition"], lexicon.patterns["ordinal_suffix"])
    found = []
    for match in pattern.finditer(sentence):
        text = match.group()
        first = text.split()[0].strip(",.").lower()
        # "May" and "March" are also words; a bare month name is a date only with a number or a capital.
        if first in lexicon.calendar and not text[0].isupper():
            continue
        found.append(text)
    return found


@lru_cache(maxsize=4)
def _quantity_pattern(unit_words: tuple[str, ...], number_words: tuple[str, ...], prefix: str, scale_words: str, range_words: str) -> re.Pattern[str]:
    units = "|".join(re.escape(word) for word in sorted(unit_words, key=len, reverse=True))
    scale = rf"(?:\s*(?:{scale_words})\b)?"
    # After the number: a unit ("%", "km", "persen"), else the word it counts ("120 rumah", "three goals").
    counted = rf"(?:\s*(?:{units})(?!\w)|\s+[^\W\d_]+(?:-[^\W\d_]+)?)?"
    number = rf"(?:{_NUMBER}|\b(?:{'|'.join(number_words)})\b)"
    return re.compile(
        rf"(?<![\w/.,])(?:{prefix})\s?{_NUMBER}{scale}|(?<![\w/.,]){number}(?:\s*(?:{range_words})\s*{_NUMBER})?{scale}{counted}",
        re.IGNORECASE,
    )


def quantities(sentence: str, lexicon: Lexicon, categories: tuple[str, ...] | None = None) -> list[str]:
    """Numbers with what they count or measure ("120 rumah", "Rp25 miliar", "3.5 percent", "14 hari"),
    keeping only those of the given unit categories (all when None)."""
    pattern = _quantity_pattern(
        tuple(word for word in lexicon.units if not word.isalpha() or len(word) > 1),
        tuple(lexicon.numbers),
        lexicon.patterns["currency_prefix"],
        lexicon.patterns["number_scale"],
        lexicon.patterns["number_range"],
    )
    found = []
    for match in pattern.finditer(sentence):
        text = match.group().strip()
        if _inside_date_or_time(sentence, match.start(), match.end(), lexicon):
            continue
        if categories is None or unit_category(text, lexicon) in categories:
            found.append(text)
    return found


def unit_category(quantity: str, lexicon: Lexicon) -> str | None:
    lowered = quantity.lower()
    if lexicon.regex("currency_prefix", re.IGNORECASE).match(lowered):
        return "money"
    words = re.findall(r"[^\W\d_]+|%|°c", lowered)
    for word in reversed(words):
        if word in lexicon.units:
            return lexicon.units[word]
    return None


def _inside_date_or_time(sentence: str, start: int, end: int, lexicon: Lexicon) -> bool:
    around = sentence[max(0, start - 1) : end + 1]
    return bool(re.search(r"\d[/:]\d|\d/|/\d", around)) or bool(lexicon.regex("zoned_clock_time").match(sentence[start : end + 6]))


def counts(query: Query, sentence: str, lexicon: Lexicon, asked: set[str]) -> tuple[str, ...]:
    """The quantity that answers "how many …"/"how much …": the number whose counted word is the thing
    asked for (in either language), else one of the unit category asked for ("people" takes jiwa,
    warga, residents …), else — when the sentence speaks of what is asked — its first number.
    "How many people accompanied X?" is answered by the names when the sentence counts none."""
    candidates = [text for text in quantities(sentence, lexicon) if not set(tokenize(text)) <= asked]
    focus_keys = _keys_of(query.focus, lexicon)
    for text in candidates:
        counted = [word for word in tokenize(text) if not word[0].isdigit() and word not in lexicon.numbers]
        if counted and any(keys(word) & focus_keys for word in counted):
            return (text,)
    if query.focus_unit:
        matching = [text for text in candidates if unit_category(text, lexicon) == query.focus_unit]
        if matching:
            return (matching[0],)
        if query.focus_unit == "people":
            named = people(query, sentence, lexicon)
            return named if len(named) > 1 else ()
        return ()
    sentence_keys = set().union(*(keys(word) for word in tokenize(sentence)))
    if candidates and (not query.focus or focus_keys & sentence_keys):
        return (candidates[0],)
    return ()


def _keys_of(words: tuple[str, ...], lexicon: Lexicon) -> set[str]:
    """Every key of the words and of their translations."""
    found: set[str] = set()
    for word in words:
        found |= keys(word)
        for translation in lexicon.translations(word):
            for part in translation.split():
                found |= keys(part)
    return found


# -- places, people, offices ----------------------------------------------------------------------


def _place_pattern(lexicon: Lexicon) -> re.Pattern[str]:
    prepositions, article, joiners = (lexicon.patterns[name] for name in ("place_preposition", "place_article", "place_joiner"))
    return re.compile(rf"\b(?:{prepositions})\s+(?:(?:{article})\s+)?({_CAPITALISED}(?:(?:\s+|,\s*|\s+(?:{joiners})\s+){_CAPITALISED})*)")


def places(sentence: str, lexicon: Lexicon) -> list[str]:
    found = []
    for match in _place_pattern(lexicon).finditer(sentence):
        place = match.group(1).rstrip(",.")
        words = [word.lower().strip(",.") for word in place.split()]
        if words[0] in lexicon.calendar or all(lexicon.is_stopword(word) for word in words):
            continue
        found.append(place)
    return found


def _is_name(text: str, lexicon: Lexicon) -> bool:
    words = text.split()
    return bool(words) and all(word[:1].isupper() for word in words) and not any(lexicon.is_title_word(word) for word in words)


def named_people(sentence: str, lexicon: Lexicon) -> list[tuple[str, str, int]]:
    """(title, name, start of the name) for each person named in the sentence.

    A capitalised run is split after its last title word (offices, institutions, contractions,
    countries: "Kepala BPBD Sulawesi Tengah Andi Rahmat", "Finance Minister Maria Santos"); what
    follows is the name. A run that starts with a title and continues after "dan"/"untuk"/"of" with
    no office word ("Direktur Jenderal Sumber Daya … dan Informatika Budi") is one title. A name of
    one word counts only after a title; a run of title words alone ("Pengadilan Negeri") is no one.
    """
    people: list[tuple[str, str, int]] = []
    runs = _title_runs(sentence, lexicon)
    for start, end in runs:
        words = sentence[start:end].split()
        while words and lexicon.is_stopword(words[0].lower()) and not lexicon.expansion(words[0].lower(), words[0]):
            words = words[1:]  # a capitalised first word of the sentence ("Dalam", "The")
        title_words = [index for index, word in enumerate(words) if lexicon.is_title_word(word)]
        split_at = title_words[-1] + 1 if title_words else 0
        name_words = [word.strip(",;.") for word in words[split_at:]]
        if not name_words or (len(name_words) == 1 and split_at == 0) or any(word.isupper() and len(word) > 1 for word in name_words):
            continue
        if split_at == 0 and re.search(rf"\b(?:{lexicon.patterns['place_preposition']})\s+$", sentence[max(0, start - 8) : start].lower()):
            continue  # "di Palu", "in Hanoi": a place
        name = " ".join(name_words)
        name_start = sentence.find(name, start)
        title = " ".join(words[:split_at])
        title = _full_title(sentence, start, title, lexicon) if title else ""
        people.append((title, name, name_start))
    return people


def _title_runs(sentence: str, lexicon: Lexicon) -> list[tuple[int, int]]:
    runs = [(match.start(), match.end()) for match in _NAME_RUN.finditer(sentence)]
    merged: list[tuple[int, int]] = []
    for start, end in runs:
        if merged:
            previous_start, previous_end = merged[-1]
            between = sentence[previous_end:start]
            first_word = sentence[start:end].split()[0].lower()
            starts_with_title = lexicon.is_title_word(sentence[previous_start:previous_end].split()[0])
            if re.fullmatch(rf"\s+(?:{lexicon.patterns['title_joiner']})\s+", between) and starts_with_title and first_word not in lexicon.offices:
                merged[-1] = (previous_start, end)
                continue
        merged.append((start, end))
    return merged


def _full_title(sentence: str, start: int, title: str, lexicon: Lexicon) -> str:
    """Extend a title backwards over "untuk"/"of"-joined title words: "Duta Besar AS untuk RI"."""
    while True:
        before = re.search(rf"({_CAPITALISED}(?:\s+{_CAPITALISED})*)\s+(?:{lexicon.patterns['title_joiner']})\s+$", sentence[:start])
        if not before or not all(lexicon.is_title_word(word) for word in before.group(1).split()):
            return title
        title = sentence[before.start() : start] + title
        start = before.start()


def people(query: Query, sentence: str, lexicon: Lexicon) -> tuple[str, ...]:
    """Names that answer a who-question. An identity question ("Who is the deputy minister?") gets the
    holders of that office; otherwise the people the question does not already name ("Who accompanied
    Andi?" is not answered by Andi)."""
    everyone = [(title, name) for title, name, _ in named_people(sentence, lexicon)]
    found = [(title, name) for title, name in everyone if not set(tokenize(name)) & set(query.named)]
    if query.subject and found:
        holders = _office_holders(query.subject, found, lexicon)
        if holders:
            return holders
    named_in_question = len(found) < len(everyone)
    if not query.subject and len(found) > 1 and not named_in_question:
        # "Who accompanied the ambassador?": the ambassador is who the question is about, not the answer.
        # (When the question names that person, "the minister Andi", the name already left them out;
        # the office word then must not also drop a deputy whose title contains it.)
        offices = _office_words(query, lexicon)
        about = set(_office_holders(" ".join(offices), found, lexicon)) if offices else set()
        if about and len(about) < len(found):
            found = [person for person in found if person[1] not in about]
    return tuple(dict.fromkeys(name for _, name in found))


def _office_words(query: Query, lexicon: Lexicon) -> list[str]:
    """Office words the question is about, including a follow-up's earlier question ("Who accompanied
    her?" after "Who did the minister meet?" is about the minister)."""
    words = lexicon.content_tokens(query.retrieval_text)
    return [word for word in words if lexicon.is_office_word(word) or word in lexicon.contractions]


def _office_holders(subject: str, people_found: list[tuple[str, str]], lexicon: Lexicon) -> tuple[str, ...]:
    """The people whose written title best matches the office asked for, word by word in either
    language. Rarer office words count more ("deputy" singles out one of three ministers), and a title
    with office words the question did not ask for ranks lower ("Who is the minister?" is not the
    deputy minister). Titles are compared by word and English stem, not by Indonesian stem: Sastrawi
    makes "Kedutaan" (embassy) "duta", which would make every embassy official an ambassador."""
    words = lexicon.content_tokens(subject)
    if not words:
        return ()
    terms = [lexicon.term(word) for word in words]

    def title_forms(title: str) -> set[str]:
        found: set[str] = set()
        for written in re.findall(r"[\w'’-]+", title):
            token = written.lower()
            found |= {token, stem_en(token)} | {part for word in lexicon.expansion(token, written) for part in (word, stem_en(word))}
        return found

    scores = {}
    for title, name in people_found:
        every = title_forms(title)
        hits = [any(all(part & every for part in alternative) for alternative in term) for term in terms]
        title_tokens = [word for written in title.split() for word in (lexicon.expansion(written.lower(), written) or (written.lower(),))]
        unasked_offices = sum(1 for word in title_tokens if word in lexicon.offices and not any(
            word in part for term in terms for alternative in term for part in alternative))
        scores[name] = (hits, unasked_offices)
    weights = [1 / max(1, sum(hits[index] for hits, _ in scores.values())) for index in range(len(terms))]
    totals = {name: sum(w for w, hit in zip(weights, hits, strict=True) if hit) - 0.01 * unasked for name, (hits, unasked) in scores.items()}
    best = max(totals.values(), default=0)
    return tuple(name for name, total in totals.items() if best > 0 and total == best)


def role_of_named_person(query: Query, sentence: str, lexicon: Lexicon) -> tuple[str, ...]:
    """For "Apa jabatan Andi Rahmat?" / "Who is Maria Santos?": the title written before the name."""
    for title, name, start in named_people(sentence, lexicon):
        if title and set(tokenize(name)) & set(query.named):
            title_start = sentence.rfind(title, 0, start)
            return (sentence[title_start : start + len(name)],) if title_start >= 0 else (title,)
    return ()


def _first_new(candidates, asked: set[str]) -> tuple[str, ...]:
    for text in candidates:
        if not set(tokenize(text)) <= asked:
            return (text,)
    return ()
