"""Language knowledge as data: the word lists and bilingual lexicon under `assistant/data/`, loaded
once as a `Lexicon`.

Nothing about a particular article lives here or in the data files: they hold general Indonesian
and English news vocabulary (function words, contractions, office titles, calendar and unit words)
and the English–Indonesian lexicon (a hand-written news glossary first, FreeDict's Wiktionary-based
dictionary behind it). `Lexicon.digest` hashes every file; the index manifest records it, so a
changed word list makes `assistant ingest` re-stem the articles.

Matching works through *keys*: a word's keys are the word itself and its Indonesian (Sastrawi) and
English (Snowball) stems, so `pertemuan`/`bertemu` and `meeting`/`meetings` meet on a shared key.
Sastrawi is dictionary-based (it returns the word unchanged when it finds no root), so English
words pass through it untouched; Snowball barely touches Indonesian words.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

# Words keep inner hyphens and apostrophes ("sosial-ekonomi", "Jum'at") but not a possessive "'s".
_TOKEN = re.compile(r"[0-9]+(?:[.,/:][0-9]+)*|[^\W\d_]+(?:['’-][^\W\d_]{2,}|-[^\W\d_])*", re.UNICODE)

Term = tuple[tuple[frozenset[str], ...], ...]
"""One key term of a question: its alternatives (the word itself, a translation, a contraction's
expansion); an alternative is a sequence of parts that must all occur, each part a set of keys."""


def tokenize(text: str) -> list[str]:
    return [token.lower() for token in _TOKEN.findall(text)]


@lru_cache(maxsize=1)
def _sastrawi():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=1)
def _snowball():
    import Stemmer  # PyStemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=100_000)
def stem_id(word: str) -> str:
    if not word.isalpha() or len(word) <= 3:
        return word
    return _sastrawi().stem(word) or word


@lru_cache(maxsize=100_000)
def stem_en(word: str) -> str:
    if not word.isalpha() or len(word) <= 3:
        return word
    return _snowball().stemWord(word)


@lru_cache(maxsize=100_000)
def keys(word: str) -> frozenset[str]:
    """The forms a word is matched by: itself and its stems in both languages. An Indonesian
    reduplicated plural ("perusahaan-perusahaan", "anak-anaknya") is also matched by its singular."""
    forms = {word, stem_id(word), stem_en(word)}
    reduplicated = _REDUPLICATION.fullmatch(word)
    if reduplicated:
        base = reduplicated.group(1)
        forms |= {base, stem_id(base), stem_en(base)}
    return frozenset(forms)


_REDUPLICATION = re.compile(r"(\w+)-\1(?:nya)?")

STEMMING_VERSION = "2"
"""Bumped when the code that turns words into keys changes: part of `data_digest`, so an index
stemmed the old way is re-stemmed on the next ingest."""


def _lines(name: str) -> list[str]:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _words(name: str) -> frozenset[str]:
    return frozenset(word.lower() for line in _lines(name) for word in line.split())


def _table(name: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("\t")] for line in _lines(name)]


@dataclass(frozen=True)
class Lexicon:
    """Every word list the assistant uses, by language where it matters. Build with `Lexicon.load()`."""

    stopwords: dict[str, frozenset[str]]
    """Function and question words per language ("id", "en")."""
    other_language_words: frozenset[str]
    anaphora: frozenset[str]
    contractions: dict[str, tuple[str, ...]]
    """Indonesian contraction → the words of its expansion ("kapolres" → kepala kepolisian resor)."""
    offices: frozenset[str]
    honorifics: frozenset[str]
    """Forms of address before a name ("Pak", "Bu", "Mr", "Dr"): like a title, not part of the name."""
    organisation_words: frozenset[str]
    countries: frozenset[str]
    """Words of country and region names in both languages (a country in a title is not a name)."""
    calendar: dict[str, tuple[str, int]]
    units: dict[str, str]
    numbers: dict[str, int]
    focus_units: dict[str, str]
    question_patterns: tuple[tuple[str, re.Pattern[str]], ...]
    chat_patterns: tuple[tuple[str, re.Pattern[str]], ...]
    time_markers: dict[tuple[str, str], frozenset[str]]
    patterns: dict[str, str]
    """Named regular expressions (`patterns.tsv`): clock times, reasons, place prepositions, amounts,
    the shapes of identity and focus questions. Fragments are composed by the code that uses them."""
    offtopic_probes: tuple[str, ...]
    english_to_indonesian: dict[str, tuple[str, ...]]
    indonesian_to_english: dict[str, tuple[str, ...]]
    digest: str
    article_places: frozenset[str] = frozenset()
    """Place names the ingested articles themselves use ("di Sigi", a dateline): added per index by
    `with_article_places`, never written here."""
    _english_by_stem: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls) -> Lexicon:
        english_to_indonesian = _bilingual()
        return cls(
            stopwords={"id": _words("stopwords_id.txt"), "en": _words("stopwords_en.txt")},
            other_language_words=_words("other_language_words.txt"),
            anaphora=_words("anaphora.txt"),
            contractions={short: tuple(expansion.split()) for short, expansion in _table("contractions_id.tsv")},
            offices=_words("offices.txt"),
            honorifics=frozenset(word.rstrip(".") for word in _words("honorifics.txt")),
            organisation_words=_words("organisation_words.txt"),
            countries=_words("countries.txt"),
            calendar={word: (kind, int(number)) for word, kind, number in _table("calendar.tsv")},
            units={word: category for word, category in _table("units.tsv")},
            numbers={word: int(value) for word, value in _table("numbers.tsv")},
            focus_units={word: category for word, category in _table("focus_words.tsv")},
            question_patterns=tuple((kind, re.compile(pattern)) for kind, pattern in _table("question_patterns.tsv")),
            chat_patterns=tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _table("chat_patterns.tsv")),
            time_markers={(when, side): frozenset(words.split()) for when, side, words in _table("time_markers.tsv")},
            patterns={name: pattern for name, pattern in _table("patterns.tsv")},
            offtopic_probes=tuple(_lines("offtopic_probes.txt")),
            english_to_indonesian=english_to_indonesian,
            indonesian_to_english=_inverted(english_to_indonesian),
            digest=data_digest(),
            _english_by_stem=_by_stem(english_to_indonesian),
        )

    # -- words ---------------------------------------------------------------------------------

    def with_article_places(self, places: set[str]) -> Lexicon:
        return replace(self, article_places=self.article_places | frozenset(places)) if places else self

    def regex(self, name: str, flags: int = 0) -> re.Pattern[str]:
        return re.compile(self.patterns[name], flags)  # `re` keeps compiled patterns cached

    def is_stopword(self, token: str) -> bool:
        return token in self.stopwords["id"] or token in self.stopwords["en"]

    def expansion(self, token: str, written: str | None = None) -> tuple[str, ...]:
        """A contraction's expansion, or (). One that is also a function word ("as") counts only
        when written in capitals ("AS" is the United States; "as" is English)."""
        expansion = self.contractions.get(token, ())
        if expansion and self.is_stopword(token) and not (written and written.isupper()):
            return ()
        return expansion

    def is_title_word(self, word: str) -> bool:
        """An office, institution, country or calendar word: part of a title, never of a person's name."""
        lowered = word.lower().strip(",;.")
        return (
            lowered in self.offices
            or lowered in self.organisation_words
            or lowered in self.countries
            or lowered in self.article_places
            or lowered in self.contractions
            or lowered in self.calendar
        )

    def is_honorific(self, word: str) -> bool:
        """A form of address ("Pak", "Bu", "Mr.", "Dr."), with or without its full stop."""
        return word.lower().strip(",;").rstrip(".") in self.honorifics

    def is_office_word(self, word: str) -> bool:
        """An office title word in either language ("menteri", or "minister" through its translation)."""
        return word in self.offices or any(part in self.offices for phrase in self.translations(word) for part in phrase.split())

    def content_tokens(self, text: str) -> list[str]:
        return [token for token in tokenize(text) if not self.is_stopword(token) and len(token) > 1]

    # -- translation -------------------------------------------------------------------------------

    def translations(self, token: str) -> tuple[str, ...]:
        """The other language's words for a token (phrases allowed), both directions: an English word's
        Indonesian equivalents and an Indonesian word's English ones."""
        found = self.english_to_indonesian.get(token) or self._english_by_stem.get(stem_en(token), ())
        back = self.indonesian_to_english.get(token) or self.indonesian_to_english.get(stem_id(token), ())
        return tuple(dict.fromkeys(found + back))

    # -- terms -----------------------------------------------------------------------------------

    def sentence_terms(self, text: str) -> list[str]:
        """What a sentence is indexed and matched by: the keys of its words and of the expansions of
        its contractions."""
        terms: list[str] = []
        for written in _TOKEN.findall(text):
            token = written.lower()
            for word in self.expansion(token, written):
                terms.extend(keys(word))
            if not self.is_stopword(token):
                terms.extend(keys(token))
        return list(dict.fromkeys(terms))  # a word whose stems equal it would otherwise count thrice

    def term(self, token: str, written: str | None = None) -> Term:
        """A question word with every way an article could say it: as written (keys), its contraction's
        expansion, and its translations into the other language."""
        alternatives: list[tuple[frozenset[str], ...]] = [(keys(token),)]
        expansion = self.expansion(token, written)
        if expansion:
            alternatives.append(tuple(keys(word) for word in expansion if not self.is_stopword(word)))
        for phrase in self.translations(token):
            parts = tuple(keys(word) for word in phrase.split() if not self.is_stopword(word))
            if parts:
                alternatives.append(parts)
        return tuple(alternatives)

    def query_terms(self, text: str) -> list[str]:
        """BM25 terms for a question: every key of every alternative of its content words."""
        terms: list[str] = []
        for written in _TOKEN.findall(text):
            token = written.lower()
            if self.is_stopword(token) and not self.expansion(token, written):
                continue
            for alternative in self.term(token, written):
                for part in alternative:
                    terms.extend(sorted(part))
        return list(dict.fromkeys(terms))


def term_occurs(term: Term, terms: set[str] | frozenset[str]) -> bool:
    return any(all(part & terms for part in alternative) for alternative in term)


def _bilingual() -> dict[str, tuple[str, ...]]:
    """English word → Indonesian equivalents: the hand glossary's first, FreeDict's after them."""
    merged: dict[str, list[str]] = {}
    for name in ("glossary_en_id.tsv", "freedict_eng_ind.tsv"):
        for english, indonesian in _table(name):
            alternatives = merged.setdefault(english.lower(), [])
            for alternative in indonesian.split("|"):
                alternative = alternative.strip().lower()
                if alternative and alternative not in alternatives:
                    alternatives.append(alternative)
    return {english: tuple(alternatives[:6]) for english, alternatives in merged.items()}


def _inverted(english_to_indonesian: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Indonesian word or phrase → English words. Only one-word English headwords travel back:
    multiword headwords ("house arrest") would carry noise into every question with `rumah`."""
    inverted: dict[str, list[str]] = {}
    for english, alternatives in english_to_indonesian.items():
        if " " in english:
            continue
        for indonesian in alternatives:
            bucket = inverted.setdefault(indonesian, [])
            if english not in bucket and len(bucket) < 6:
                bucket.append(english)
    return {indonesian: tuple(english) for indonesian, english in inverted.items()}


def _by_stem(english_to_indonesian: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """English stem → Indonesian equivalents, so "meetings" and "accompanied" find their headwords."""
    by_stem: dict[str, list[str]] = {}
    for english, alternatives in english_to_indonesian.items():
        if " " not in english:
            bucket = by_stem.setdefault(stem_en(english), [])
            bucket.extend(alternative for alternative in alternatives if alternative not in bucket)
    return {word: tuple(alternatives[:6]) for word, alternatives in by_stem.items()}


def data_files() -> list[Path]:
    """The language data (the answerability weights are not language data and are not hashed)."""
    return sorted(path for path in DATA_DIR.iterdir() if path.suffix in (".txt", ".tsv"))


@lru_cache(maxsize=1)
def data_digest() -> str:
    """A hash of every language data file: part of the index fingerprint (see `ingest`)."""
    digest = hashlib.sha256(STEMMING_VERSION.encode())
    for path in data_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The package's lexicon, loaded once per process (≈0.1 s)."""
    return Lexicon.load()

