"""Lexical side of retrieval: tokenizing, Indonesian stemming (PySastrawi) and BM25 over sentences.

Sastrawi is dictionary-based and accurate (`ketertarikan` → `tarik`, `pengembangan` → `kembang`);
PyStemmer's Indonesian Snowball is faster but over-stems (`pengembangan` → `embang`, `penguatan` →
`uat`). Sentences are stemmed once at ingest (stored in Chroma metadata); query words go through an
LRU cache, so a warm question costs microseconds.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

GLOSSARY_PATH = Path(__file__).parent / "data" / "glossary_en_id.tsv"

_TOKEN = re.compile(r"[0-9]+(?:[.,/][0-9]+)*|[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)

# Question words and function words in both languages: they carry no evidence of an answer.
STOPWORDS = frozenset(
    """
    yang dan di ke dari ini itu dengan untuk pada dalam oleh akan sudah telah juga atau serta bahwa
    adalah ialah merupakan para sebagai tersebut apa apakah siapa siapakah mana manakah kapan kapankah
    berapa berapakah bagaimana mengapa kenapa dimana kemana darimana saja apa-apa hal ada tidak bukan
    nya kah lah pun bisa dapat mau ingin hanya tetapi namun sementara karena agar supaya sehingga jika
    kalau saat ketika seperti antara tentang the a an of to in on at for and or is are was were be been
    being by with from as that this these those which who whom whose what when where why how did do does
    doing has have had it its he she his her they them their there here about into than then so such
    can could would should will shall may might must not no yes any all some many much more most
    """.split()
)


def tokenize(text: str) -> list[str]:
    return [token.lower() for token in _TOKEN.findall(text)]


@lru_cache(maxsize=1)
def _sastrawi():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    if not word.isalpha() or len(word) <= 3:
        return word
    return _sastrawi().stem(word) or word


# Indonesian news writes offices and institutions as contractions ("Menkomdigi", "Dubes", "IKN");
# people ask with either form. Both sides are indexed with the expansion next to the short form.
ABBREVIATIONS = {
    "menkomdigi": "menteri komunikasi digital",
    "wamenkomdigi": "wakil menteri komunikasi digital",
    "kemkomdigi": "kementerian komunikasi digital",
    "komdigi": "komunikasi digital",
    "dubes": "duta besar",
    "wamen": "wakil menteri",
    "mendag": "menteri perdagangan",
    "wamendag": "wakil menteri perdagangan",
    "sekjen": "sekretaris jenderal",
    "dirjen": "direktur jenderal",
    "ikn": "ibu kota nusantara",
    "ibukota": "ibu kota",
    "ri": "republik indonesia",
    "as": "amerika serikat",
    "usa": "amerika serikat",
    "us": "amerika serikat",
    "ai": "kecerdasan buatan",
    "pemda": "pemerintah daerah",
    "pemkot": "pemerintah kota",
    "presdir": "presiden direktur",
}


def index_terms(text: str) -> list[str]:
    """What BM25 indexes for a sentence: its stems, plus each inflected word as written, so an
    English question carried over as `bertemu` (met) outranks a `pertemuan` (meeting) that only
    shares the stem `temu`."""
    surface = [token for token in tokenize(text) if token not in STOPWORDS and stem(token) != token]
    return content_stems(text) + surface


def content_stems(text: str) -> list[str]:
    """Stemmed tokens minus stopwords, contractions expanded: what BM25 indexes and what counts as
    lexical evidence."""
    stems = []
    for token in tokenize(text):
        if token in ABBREVIATIONS:
            stems.extend(stem(word) for word in ABBREVIATIONS[token].split())
        if token not in STOPWORDS:
            stems.append(stem(token))
    return stems


@lru_cache(maxsize=1)
def english_to_indonesian() -> dict[str, tuple[str, ...]]:
    """A general English→Indonesian news glossary (government, economy, technology, time words):
    each English word with its Indonesian equivalents, some of them phrases ("duta besar")."""
    glossary: dict[str, tuple[str, ...]] = {}
    for line in GLOSSARY_PATH.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            english, indonesian = line.split("\t", 1)
            glossary[english.strip()] = tuple(alternative.strip() for alternative in indonesian.split("|"))
    return glossary


def glossary_words(token: str) -> list[str]:
    """Every Indonesian word the glossary offers for an English word (empty if it has none)."""
    return [word for alternative in english_to_indonesian().get(token, ()) for word in alternative.split()]


def query_stems(question: str, language: str) -> list[str]:
    """The question's BM25 terms. English words are carried over to Indonesian through the glossary,
    since the article is Indonesian: without it, English questions match only names."""
    if language != "en":
        return content_stems(question)
    words: list[str] = []
    for token in tokenize(question):
        words.extend(glossary_words(token) or ([] if token in STOPWORDS else [token]))
    words = [word for word in words if word not in STOPWORDS]
    return [stem(word) for word in words] + [word for word in words if stem(word) != word]


Term = list[tuple[str, ...]]
"""One key term of a question: its alternatives, each the stems that must all occur."""


def key_terms(question: str, language: str, vocabulary: set[str]) -> list[Term]:
    """The question's key terms, each with the ways the article could say it.

    English words count only when the glossary knows them (or the article uses them as they are):
    an unknown English word is no evidence either way.
    """
    if language != "en":
        return [
            [(stem(token),)] + ([tuple(stem(word) for word in ABBREVIATIONS[token].split())] if token in ABBREVIATIONS else [])
            for token in tokenize(question)
            if token not in STOPWORDS
        ]
    glossary = english_to_indonesian()
    return [
        [tuple(stem(word) for word in alternative.split()) for alternative in glossary[token]] if token in glossary else [(token,)]
        for token in tokenize(question)
        if token not in STOPWORDS and (token in glossary or token in vocabulary)
    ]


def term_occurs(term: Term, stems: set[str]) -> bool:
    return any(all(part in stems for part in alternative) for alternative in term)


def unsupported_share(question: str, language: str, vocabulary: set[str]) -> float:
    """Share of the question's key terms that occur nowhere in the article (0 when nothing is known).

    "Berapa umur Meutya Hafid?" asks about `umur`, which the article never mentions.
    """
    terms = key_terms(question, language, vocabulary)
    if not terms:
        return 0.0
    return sum(1 for term in terms if not term_occurs(term, vocabulary)) / len(terms)


class BM25Index:
    """BM25 (Okapi, via rank-bm25) over pre-stemmed sentences."""

    def __init__(self, ids: list[str], stems: list[list[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.ids = ids
        self._bm25 = BM25Okapi([tokens or ["∅"] for tokens in stems]) if ids else None

    def search(self, query_stems: list[str], k: int) -> list[tuple[str, float]]:
        if not self._bm25 or not query_stems:
            return []
        scores = self._bm25.get_scores(query_stems)
        ranked = sorted(zip(self.ids, scores), key=lambda pair: -pair[1])
        return [(sentence_id, float(score)) for sentence_id, score in ranked[:k] if score > 0]
