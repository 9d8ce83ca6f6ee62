"""A question, parsed once: `Query.parse(question, history, lexicon)`.

Everything downstream (retrieval, abstention, span finding, composing, the LLM path, Slack) reads
the `Query`; nothing re-detects its language or kind.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from assistant.lexicon import Lexicon, Term, default_lexicon, tokenize
from assistant.types import Language, Turn

Kind = Literal["duration", "time", "how_much", "how_many", "when", "where", "role", "who", "why", "yes_no", "how", "what"]
Problem = Literal["empty", "too_long", "no_words", "instruction"]
Chat = Literal["thanks", "greeting"]

MAX_QUESTION_CHARS = 2000

TYPED_KINDS: tuple[Kind, ...] = ("duration", "time", "how_much", "how_many", "when", "where")
"""Kinds whose answer is a recognisable span (a date, a count, a place …)."""

_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÿ]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_SUFFIX_NYA = re.compile(r"\w{3,}nya$")
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")


@dataclass(frozen=True)
class Query:
    """What a question asks, parsed once."""

    text: str
    """The question as asked, whitespace and control characters normalised."""
    language: Language
    kind: Kind
    kinds: tuple[Kind, ...]
    """Every kind the question asks ("Who met whom, and when?" → who, when); `kind` is the first."""
    retrieval_text: str
    """The text to retrieve with: a follow-up carries the previous question's content words."""
    follow_up: bool
    subject: str | None
    """What an identity question asks to identify: "Who is the deputy minister?" → "deputy minister"."""
    focus: tuple[str, ...]
    """The words a question asks about right after its question word ("How many houses…" → houses)."""
    focus_unit: str | None
    """The unit category a quantity question wants (money, percent, length, people …), if known."""
    named: tuple[str, ...]
    """Lower-cased words of the names the question mentions ("Who accompanied Andi Rahmat?")."""
    terms: tuple[Term, ...]
    """Key terms: each content word with the ways an article could say it (both languages)."""
    term_words: tuple[str, ...]
    """The content words behind `terms`, same order."""
    search_terms: tuple[str, ...]
    context_search_terms: tuple[str, ...]
    other_time: str | None
    """"future" or "past" when the question asks about another time than the article's event."""
    problem: Problem | None = None
    chat: Chat | None = None
    summary: bool = False

    @classmethod
    def parse(cls, question: str, history: Sequence[Turn | str] = (), lexicon: Lexicon | None = None) -> Query:
        lexicon = lexicon or default_lexicon()
        text = normalise(question)
        language = detect_language(text, lexicon, fallback=history_language(history, lexicon))
        problem = find_problem(text, lexicon)
        lowered = text.lower()
        chat: Chat | None = next((name for name, pattern in lexicon.chat_patterns if name in ("thanks", "greeting") and pattern.match(text)), None)  # type: ignore[misc]
        summary = any(name == "summary" and pattern.search(text) for name, pattern in lexicon.chat_patterns)
        kinds = question_kinds(lowered, lexicon)
        # "…mentioned in the article", "menurut berita ini": about the article, not what is asked.
        asked = without_article_reference(text, lexicon)
        follow_up = bool(_previous_questions(history)) and is_follow_up(asked, lexicon)
        retrieval_text = contextualise(asked, history, lexicon) if follow_up else asked
        capitalised = _CAPITALISED_RUN.findall(_without_first_word(asked, lexicon))
        named = tuple(word.lower() for run in capitalised for word in run.split() if not lexicon.is_title_word(word))
        focus = tuple(word for word in question_focus(asked.lower(), lexicon) if word not in named)[:2]
        kind = kinds[0]
        focus_unit = next((lexicon.focus_units[word] for word in focus if word in lexicon.focus_units), None)
        if kind in ("how_many", "what") and focus_unit in ("money", "percent", "length", "weight", "area", "temperature"):
            kind = "how_much"
        if kind in ("how_many", "how_much") and focus_unit is None:
            focus_unit = next((lexicon.units[word] for word in focus if word in lexicon.units), None)
        words = [token for token in lexicon.content_tokens(asked) if token not in lexicon.anaphora]
        written = {token.lower(): token for token in re.findall(r"[\w'’-]+", asked)}
        return cls(
            text=text,
            language=language,
            kind=kind,
            kinds=(kind, *[other for other in kinds[1:] if other != kind]),
            retrieval_text=retrieval_text,
            follow_up=follow_up,
            subject=identity_subject(asked, lexicon),
            focus=focus,
            focus_unit=focus_unit,
            named=named,
            terms=tuple(lexicon.term(word, written.get(word)) for word in words),
            term_words=tuple(words),
            search_terms=tuple(lexicon.query_terms(asked)),
            context_search_terms=tuple(lexicon.query_terms(retrieval_text)),
            other_time=other_time(lowered, lexicon),
            problem=problem,
            chat=chat,
            summary=summary,
        )

    def part(self, kind: Kind) -> Query:
        """This question narrowed to one of its kinds (one part of "Who won, and when?")."""
        return replace(self, kind=kind, kinds=(kind,))


def normalise(question: str) -> str:
    """Collapse whitespace and drop control characters; keep the words as the user wrote them."""
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in question)
    return re.sub(r"\s+", " ", cleaned).strip()


def detect_language(text: str, lexicon: Lexicon | None = None, fallback: Language = "id") -> Language:
    """Indonesian, English or other, by counting each language's function words. A question made only
    of names falls back to the conversation's language (or `fallback`)."""
    lexicon = lexicon or default_lexicon()
    letters = _LETTER.findall(text)
    if letters and sum(1 for ch in letters if _LATIN_LETTER.match(ch)) < 0.5 * len(letters):
        return "other"
    tokens = tokenize(text)
    indonesian, english = lexicon.stopwords["id"], lexicon.stopwords["en"]
    scores = {
        "id": sum(token in indonesian and token not in english for token in tokens),
        "en": sum(token in english and token not in indonesian for token in tokens),
        "other": sum(token in lexicon.other_language_words and token not in indonesian and token not in english for token in tokens),
    }
    if not scores["id"] and not scores["en"]:  # no function word of either language: count lexicon words
        scores["id"] = sum(token in lexicon.indonesian_to_english or token in lexicon.contractions for token in tokens)
        scores["en"] = sum(token in lexicon.english_to_indonesian for token in tokens)
    candidates: tuple[Language, ...] = ("id", "en", "other")
    best = max(candidates, key=lambda language: scores[language])
    if scores[best] == 0:
        return fallback
    if scores["id"] == scores["en"] and scores["id"] >= scores["other"]:
        return fallback if fallback in ("id", "en") else "id"
    return best


def history_language(history: Sequence[Turn | str], lexicon: Lexicon | None = None) -> Language:
    for text in reversed(_previous_questions(history)):
        language = detect_language(text, lexicon, fallback="other")
        if language in ("id", "en"):
            return language
    return "id"


def find_problem(text: str, lexicon: Lexicon) -> Problem | None:
    if not text:
        return "empty"
    if len(text) > MAX_QUESTION_CHARS:
        return "too_long"
    if not any(ch.isalnum() for ch in text):
        return "no_words"
    if any(name == "instruction" and pattern.search(text) for name, pattern in lexicon.chat_patterns):
        return "instruction"
    return None


def question_kinds(lowered: str, lexicon: Lexicon) -> tuple[Kind, ...]:
    """Every kind whose pattern matches, in the data file's order of precedence; ("what",) if none.
    A yes/no opener counts only when no other kind is asked ("Is it true that … when …?" asks when)."""
    found: list[Kind] = [kind for kind, pattern in lexicon.question_patterns if pattern.search(lowered)]  # type: ignore[misc]
    if len(found) > 1 and "yes_no" in found:
        found.remove("yes_no")
    if "how" in found and len(found) > 1:
        found.remove("how")
    if "how_much" in found and "how_many" in found:
        found.remove("how_many")
    # "Berapa lama…" is a duration, not also a count; "jam berapa" a clock time, not a count.
    if ("duration" in found or "time" in found) and "how_many" in found:
        found.remove("how_many")
    return tuple(found) or ("what",)


def without_article_reference(text: str, lexicon: Lexicon) -> str:
    """The question without the words that point at the article ("…mentioned in the article",
    "Menurut berita ini, …"); unchanged if nothing else would be left."""
    stripped = normalise(lexicon.regex("article_reference", re.IGNORECASE).sub(" ", text))
    stripped = re.sub(r"\s+([?.,!])", r"\1", stripped).lstrip(",; ")
    return stripped if lexicon.content_tokens(stripped) else text


def question_focus(lowered: str, lexicon: Lexicon) -> tuple[str, ...]:
    """The (up to three) content words right after the question word: what is asked for."""
    adjective = lexicon.regex("focus_adjective").search(lowered)
    if adjective:
        return (adjective.group("adjective"),)
    match = lexicon.regex("focus").search(lowered)
    if not match:
        return ()
    words = [word for word in tokenize(match.group("rest")) if not lexicon.is_stopword(word)]
    return tuple(words[:3])


def identity_subject(question: str, lexicon: Lexicon) -> str | None:
    """"Siapa Wakil Bupati Sleman?" → "Wakil Bupati Sleman": what an is-question asks to identify."""
    match = lexicon.regex("identity", re.IGNORECASE).match(question)
    if not match:
        return None
    subject = lexicon.regex("identity_copula", re.IGNORECASE).sub("", match.group("subject"))
    if lexicon.regex("identity_action", re.IGNORECASE).match(subject):  # "Siapa yang mendampingi…?" asks who did something
        return None
    subject = lexicon.regex("identity_relative", re.IGNORECASE).split(subject)[0]  # "Siapa menteri yang hadir?" → menteri
    return subject if len(subject.split()) <= 6 else None


def other_time(lowered: str, lexicon: Lexicon) -> str | None:
    tokens = set(tokenize(lowered))
    for when in ("future", "past"):
        if tokens & lexicon.time_markers[(when, "question")]:
            return when
    return None


def is_follow_up(text: str, lexicon: Lexicon) -> bool:
    """True when the question leans on an earlier turn: a pronoun, `-nya`, or hardly any content."""
    tokens = tokenize(text)
    if any(token in lexicon.anaphora for token in tokens):
        return True
    if any(_SUFFIX_NYA.fullmatch(token) for token in tokens):
        return True
    return len([token for token in lexicon.content_tokens(text) if token not in lexicon.anaphora]) <= 1


def contextualise(text: str, history: Sequence[Turn | str], lexicon: Lexicon) -> str:
    """"Who accompanied her?" after "Who did the minister meet?" → "Who accompanied her? (minister meet)":
    the question's own words lead, the earlier subject fills in the pronoun."""
    previous = _previous_questions(history)
    if not previous:
        return text
    asked = set(tokenize(text))
    carried = [word for word in lexicon.content_tokens(previous[-1]) if word not in asked and word not in lexicon.anaphora]
    return f"{text} ({' '.join(carried)})" if carried else text


def _previous_questions(history: Sequence[Turn | str]) -> list[str]:
    return [turn if isinstance(turn, str) else turn.text for turn in history if isinstance(turn, str) or turn.role == "user"]


def _without_first_word(text: str, lexicon: Lexicon) -> str:
    # A question word is capitalised because it starts the question, not because it is a name.
    first = re.match(r"^\W*(\w+)", text)
    return text[first.end() :] if first and lexicon.is_stopword(first.group(1).lower()) else text
