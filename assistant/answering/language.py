"""Which language a question is in: Indonesian, English, or something else.

Counts function words of each language; questions made only of names fall back to the language
of the surrounding conversation, or Indonesian (the article's language).
"""

from __future__ import annotations

import re

from assistant.lexical import tokenize
from assistant.types import Language

INDONESIAN = frozenset(
    """
    apa apakah siapa siapakah kapan mana dimana di ke dari berapa bagaimana mengapa kenapa yang dan
    ini itu dengan untuk pada dalam oleh akan sudah telah juga atau serta bahwa adalah saja tidak
    bukan ada apa-apa tentang menurut artikel mereka dia ia kami kita saya anda nya siapa-siapa
    yg dgn utk tdk sdh jadi sebut disebut berita bertemu menteri pertemuan perusahaan kerja sama
    halo hai terima kasih makasih selamat pagi siang sore malam tolong ringkas kamu
    """.split()
)
ENGLISH = frozenset(
    """
    what who whom whose when where which why how the a an of to in on at for and or is are was were
    did do does has have had with from by about that this these those they he she his her it its
    many much article say says said meet met minister meeting companies according tell me please
    hello hi hey thanks thank you good morning afternoon evening summarize summarise summary
    """.split()
)
# Common function words of other languages people might ask in; enough to tell them apart politely.
OTHER = frozenset(
    """
    le la les est qui que quoi où quand comment pourquoi des une avec pour dans sur el los las es
    quién qué dónde cuándo cómo por qué con una der die das ist wer wo wann wie warum und nicht mit
    het een wie wat waar wanneer hoe o os as é quem onde quando como
    """.split()
)
_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÿ]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def detect_language(text: str, fallback: Language = "id") -> Language:
    letters = _LETTER.findall(text)
    if letters and sum(1 for ch in letters if _LATIN_LETTER.match(ch)) < 0.5 * len(letters):
        return "other"
    tokens = tokenize(text)
    scores = {
        "id": sum(token in INDONESIAN for token in tokens),
        "en": sum(token in ENGLISH for token in tokens),
        "other": sum(token in OTHER and token not in INDONESIAN and token not in ENGLISH for token in tokens),
    }
    best = max(scores, key=lambda language: scores[language])
    if scores[best] == 0:
        return fallback
    if scores["id"] == scores["en"] and scores["id"] >= scores["other"]:
        return fallback if fallback in ("id", "en") else "id"
    return best  # type: ignore[return-value]
