"""What a question asks for, whether it is usable at all, and how a follow-up reads in context."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.lexical import STOPWORDS, tokenize
from assistant.types import Turn

MAX_QUESTION_CHARS = 2000

# Words that make a question lean on an earlier turn.
ANAPHORA = frozenset(
    """
    him her he she it its they them their his that this those these there then
    dia ia beliau nya mereka itu tersebut sana situ tadi
    """.split()
)
_SUFFIX_NYA = re.compile(r"\w+nya\b", re.IGNORECASE)

_INSTRUCTION_PATTERNS = [
    r"\bignore\b.{0,40}\b(instruction|prompt|rule|previous|above)",
    r"\b(disregard|forget)\b.{0,40}\b(instruction|prompt|rule|previous|above)",
    r"\b(system prompt|developer mode|jailbreak|you are now|act as|pretend to be)\b",
    r"\b(abaikan|lupakan)\b.{0,40}\b(instruksi|perintah|aturan|sebelumnya)",
    r"\b(tulis|katakan|buat)\w*\s+(puisi|lelucon)\b",
    r"\b(write|tell)\s+(me\s+)?(a\s+)?(poem|joke|story)\b",
]

_TYPE_PATTERNS = [
    ("duration", r"\b(how long|berapa lama|berapa jam|berapa menit|berapa hari)\b"),
    ("time", r"\b(what time|jam berapa|pukul berapa)\b"),
    ("how_many", r"\b(how many|how much|berapa|berapakah|jumlah|number of)\b"),
    ("when", r"\b(when|what day|what date|which day|kapan|kapankah|hari apa|tanggal berapa|pukul berapa)\b"),
    ("where", r"\b(where|which cit(y|ies)|which place|di mana|dimana|ke mana|kemana|kota mana|kota apa|lokasi|tempat)\b"),
    ("role", r"\b(jabatan|menjabat|posisi|peran|title|role|position)\b"),
    ("who", r"\b(who|whom|whose|siapa|siapakah|siapa saja|what is the name of|what's the name of|apa nama|nama dari)\b"),
    ("why", r"\b(why|mengapa|kenapa)\b"),
    ("how", r"\b(how|bagaimana)\b"),
]


@dataclass(frozen=True)
class QuestionProblem:
    """Why a question cannot be answered as asked; `reason` picks the polite reply."""

    reason: str  # empty | too_long | no_words | instruction


def normalise(question: str) -> str:
    """Collapse whitespace and drop control characters; keep the words as the user wrote them."""
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in question)
    return re.sub(r"\s+", " ", cleaned).strip()


_THANKS = re.compile(r"^\s*(terima\s*kasih|makasih|thanks|thank\s+you|thx|ok(ay)?|oke|sip|great|mantap)\b[\s\w!.,]{0,20}$", re.IGNORECASE)
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|halo|hai|hallo|selamat\s+(pagi|siang|sore|malam)|good\s+(morning|afternoon|evening)|"
    r"who\s+are\s+you|what\s+can\s+you\s+do|siapa\s+(kamu|anda)|help|tolong|bantuan)\b[\s!.?,]*(bot|assistant|asisten)?[\s!.?]*$",
    re.IGNORECASE,
)
_SUMMARY = re.compile(
    r"\b(what\s+is\s+(the|this)\s+(article|news|story)\s+about|what'?s\s+(the|this)\s+(article|news|story)\s+about|"
    r"summar(y|ise|ize)\s+(of\s+)?(the|this)\s+(article|news|story)|summari[sz]e\s+it|main\s+points|tl;?dr|"
    r"ringkas\w*\s+(artikel|berita)|rangkum\w*\s+(artikel|berita)|(artikel|berita)\s+(ini\s+)?tentang\s+apa|"
    r"tentang\s+apa\s+(artikel|berita)|apa\s+isi\s+(artikel|berita)|inti\s+(artikel|berita)|garis\s+besar\s+(artikel|berita))\b",
    re.IGNORECASE,
)


def asks_for_summary(question: str) -> bool:
    """"What is the article about?", "Ringkas artikel ini": a news article's lead answers these."""
    return bool(_SUMMARY.search(question))


def small_talk(question: str) -> str | None:
    """"thanks" or "greeting" for chat that is not a question about the article, else None."""
    if _THANKS.match(question):
        return "thanks"
    if _GREETING.match(question):
        return "greeting"
    return None


def find_problem(question: str) -> QuestionProblem | None:
    if not question:
        return QuestionProblem("empty")
    if len(question) > MAX_QUESTION_CHARS:
        return QuestionProblem("too_long")
    if not any(ch.isalnum() for ch in question):
        return QuestionProblem("no_words")
    lowered = question.lower()
    if any(re.search(pattern, lowered) for pattern in _INSTRUCTION_PATTERNS):
        return QuestionProblem("instruction")
    return None


def question_type(question: str) -> str:
    lowered = question.lower()
    for kind, pattern in _TYPE_PATTERNS:
        if re.search(pattern, lowered):
            return kind
    return "what"


_IDENTITY = re.compile(
    r"^\s*(?:siapa(?:kah)?(?:\s+nama)?|apa\s+nama|who\s+is|who's|who\s+was|who\s+are|what\s+is\s+the\s+name\s+of|what's\s+the\s+name\s+of)"
    r"\s+(?:the\s+|an?\s+)?(?P<subject>[^?]+?)\s*\??\s*$",
    re.IGNORECASE,
)


def identity_subject(question: str) -> str | None:
    """"Siapa Presiden Amerika Serikat?" → "Presiden Amerika Serikat": what an is-question asks to
    identify. Every term of it must be in the article for the article to answer."""
    match = _IDENTITY.match(question)
    if not match:
        return None
    subject = re.sub(r"^(saja\s+)?yang\s+(menjadi|merupakan|adalah|menjabat(\s+sebagai)?)\s+", "", match.group("subject"), flags=re.IGNORECASE)
    if re.match(r"(saja\s+)?yang\s", subject, re.IGNORECASE):  # "Siapa yang mendampingi…?" asks who did something
        return None
    return subject if len(subject.split()) <= 6 else None


def content_words(text: str) -> list[str]:
    return [token for token in tokenize(text) if token not in STOPWORDS and token not in ANAPHORA and len(token) > 1]


def is_follow_up(question: str) -> bool:
    """True when the question leans on an earlier turn: a pronoun, `-nya`, or hardly any content."""
    tokens = tokenize(question)
    if any(token in ANAPHORA for token in tokens):
        return True
    if any(_SUFFIX_NYA.fullmatch(token) and len(token) > 5 for token in tokens):
        return True
    return len(content_words(question)) <= 1


def contextualise(question: str, history: Sequence[Turn | str]) -> str:
    """The text to retrieve with: a follow-up gets the content words of the last user question.

    "Who accompanied her?" after "Who did the minister meet?" retrieves with "Who accompanied her?
    (minister meet)": the question's own words lead, the earlier subject fills in the pronoun.
    """
    previous = [turn if isinstance(turn, str) else turn.text for turn in history if isinstance(turn, str) or turn.role == "user"]
    if not previous or not is_follow_up(question):
        return question
    carried = [word for word in content_words(previous[-1]) if word not in set(tokenize(question))]
    return f"{question} ({' '.join(carried)})" if carried else question
