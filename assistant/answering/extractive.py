"""The default answerer: extractive, deterministic, no model service.

It picks the smallest set of sentences that answers the question (usually one), quotes them
verbatim with `[n]` markers, points out the span that answers (a name, a date, a number, places),
and abstains when the evidence is weak. The abstention rule combines signals measured on the eval
suite (see README, "Answering"): the best dense score, its margin over the runner-up, and whether
the best sentence carries the question's own key terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.language import detect_language
from assistant.answering.messages import message
from assistant.answering.question import contextualise, find_problem, normalise, question_type
from assistant.answering.spans import answer_spans
from assistant.lexical import content_stems
from assistant.retrieval import ScoredSentence, SentenceSearcher
from assistant.types import Answer, Citation, Language, Turn


@dataclass(frozen=True)
class AbstentionPolicy:
    """Thresholds for "the article does not say". Calibrated on the eval's unanswerable questions."""

    min_dense: float = 0.80
    """Below this best cosine, abstain whatever else holds."""
    confident_dense: float = 0.86
    """At or above this best cosine, answer whatever else holds."""
    min_lexical_overlap: float = 0.34
    """In between: answer only if the best sentence has this share of the question's key stems."""


@dataclass(frozen=True)
class SelectionPolicy:
    """When a second or third sentence joins the first."""

    max_gap: float = 0.015
    """A runner-up within this score of the best one may join ..."""
    min_new_stems: int = 1
    """... if it carries question terms the best one lacks."""
    max_sentences: int = 3


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, searcher: SentenceSearcher, abstention: AbstentionPolicy | None = None, selection: SelectionPolicy | None = None) -> None:
        self.searcher = searcher
        self.abstention = abstention or AbstentionPolicy()
        self.selection = selection or SelectionPolicy()

    def answer(self, question: str, history: Sequence[Turn | str] = ()) -> Answer:
        question = normalise(question)
        language = detect_language(question, fallback=_history_language(history))
        problem = find_problem(question)
        if problem:
            return refusal(question, problem.reason, language)
        if language == "other":
            return refusal(question, "other_language", language)
        query = contextualise(question, history)
        scored = self.searcher.score(query, k=5)
        if self.should_abstain(query, scored):
            return refusal(question, "not_in_article", language)
        chosen = self.select(query, scored)
        return compose(question, query, chosen, language, answerer=self.name)

    # -- decisions, public so the eval can report on them -----------------------------------------

    def should_abstain(self, query: str, scored: list[ScoredSentence]) -> bool:
        if not scored:
            return True
        best = scored[0]
        if best.dense < self.abstention.min_dense:
            return True
        if best.dense >= self.abstention.confident_dense:
            return False
        return lexical_overlap(query, best.sentence.text) < self.abstention.min_lexical_overlap

    def select(self, query: str, scored: list[ScoredSentence]) -> list[ScoredSentence]:
        chosen = [scored[0]]
        covered = set(content_stems(scored[0].sentence.text))
        wanted = set(content_stems(query))
        for candidate in scored[1 : self.selection.max_sentences]:
            if scored[0].score - candidate.score > self.selection.max_gap:
                break
            new_terms = (wanted & set(content_stems(candidate.sentence.text))) - covered
            if len(new_terms) >= self.selection.min_new_stems:
                chosen.append(candidate)
                covered |= set(content_stems(candidate.sentence.text))
        return sorted(chosen, key=lambda item: (item.sentence.doc_id, item.sentence.position))


def lexical_overlap(query: str, sentence: str) -> float:
    """Share of the question's key stems that occur in the sentence."""
    wanted = set(content_stems(query))
    if not wanted:
        return 0.0
    return len(wanted & set(content_stems(sentence))) / len(wanted)


def compose(question: str, query: str, chosen: list[ScoredSentence], language: Language, answerer: str) -> Answer:
    """Short answer first (when a span answers), then the quoted sentences, each with its marker."""
    kind = question_type(query)
    citations = []
    for marker, item in enumerate(chosen, start=1):
        spans = answer_spans(kind, query, item.sentence.text)
        citations.append(Citation.from_hit(marker, item.sentence.to_hit(item.score), highlights=spans))
    lines = []
    with_spans = [citation for citation in citations if citation.highlights]
    if with_spans:
        short = " ".join(f"{_join(citation.highlights, language)} [{citation.marker}]" for citation in with_spans)
        lines.append(short + ".")
    quotes = " ".join(f"{_quote(citation.text)} [{citation.marker}]" for citation in citations)
    lines.append(f"{message('according_to', language)} {quotes}")
    return Answer(question=question, text="\n".join(lines), abstained=False, citations=tuple(citations), language=language, answerer=answerer)


def refusal(question: str, reason: str, language: Language, answerer: str = "extractive") -> Answer:
    """An honest non-answer: no citations, no markers."""
    return Answer(question=question, text=message(reason, language), abstained=True, citations=(), language=language, answerer=answerer)


def _join(items: Sequence[str], language: Language) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {message('and', language)} {items[-1]}"


def _quote(sentence: str) -> str:
    return sentence if sentence[:1] in "\"“'‘" else f"“{sentence}”"


def _history_language(history: Sequence[Turn | str]) -> Language:
    for turn in reversed(history):
        text = turn if isinstance(turn, str) else turn.text
        if isinstance(turn, str) or turn.role == "user":
            language = detect_language(text, fallback="other")
            if language in ("id", "en"):
                return language
    return "id"
