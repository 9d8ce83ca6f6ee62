"""The default answerer: extractive, deterministic, no model service.

It picks the smallest set of sentences that answers the question (usually one), quotes them
verbatim with `[n]` markers, points out the span that answers (names, a title, a date, a number,
places), and abstains when the evidence is weak (`should_abstain`; measured on the eval suite, see
README, "Answering").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.answering.language import detect_language
from assistant.answering.messages import message
from assistant.answering.question import (
    asks_for_summary,
    contextualise,
    find_problem,
    identity_subject,
    normalise,
    question_type,
    small_talk,
)
from assistant.answering.spans import answer_spans
from assistant.lexical import content_stems, unsupported_share
from assistant.retrieval import ANSWER_TYPES, ScoredSentence, SentenceSearcher
from assistant.types import Answer, Citation, Language, Turn


@dataclass(frozen=True)
class AbstentionPolicy:
    """When to say "the article does not say". Measured on the eval's unanswerable questions (README).

    A single cosine threshold separates answerable from unanswerable questions badly (their best
    scores overlap between 0.74 and 0.90), so `should_abstain` combines these with checks that need
    no threshold: an office the article never names, and a question about another time than the
    article's event.
    """

    min_dense: float = 0.74
    """Below this best cosine the question is off-topic (weather, football): abstain."""
    require_answer_type: bool = True
    """A when/where/how-many question whose best sentence holds no date/place/count: abstain."""
    max_unsupported_share: float = 0.75
    """Abstain when at least this share of the question's key terms never occur in the article ..."""
    unsupported_confident_dense: float = 0.90
    """... unless the best cosine is at least this high."""

    @classmethod
    def for_embedder(cls, model_id: str) -> AbstentionPolicy:
        """Cosine thresholds belong to one embedding model: e5's cosines sit near 0.8, MiniLM's near
        0.3. Only the default model is calibrated; others rely on the lexical and answer-type signals."""
        from assistant.settings import DEFAULT_EMBEDDING

        if model_id == DEFAULT_EMBEDDING:
            return cls()
        return cls(min_dense=-1.0, unsupported_confident_dense=2.0)


@dataclass(frozen=True)
class SelectionPolicy:
    """When a second or third sentence joins the first."""

    max_gap: float = 0.015
    """A runner-up within this score of the best one may join ..."""
    min_new_stems: int = 1
    """... if it carries question terms the best one lacks."""
    max_sentences: int = 3


SPAN_REQUIRED = tuple(kind for kind in ANSWER_TYPES if kind != "who")
"""Kinds whose best sentence must hold their span. "who" only for "Who is the …?": otherwise an
agency ("kepada siapa…?") or a group ("bagi siapa?" → "masyarakat luas") answers it too, and the
name finder sees only people."""

LEAD_SENTENCES = 2
"""A news article's lead: what a summary request gets."""

# A question about another time than the article's event needs a sentence about that time: "When is
# the next meeting?" is not answered by "the meeting took place on Monday", nor "What was his job
# before?" by his current title. (question pattern, what a sentence about that time would contain)
_OTHER_TIME = (
    (
        re.compile(r"\b(will|next|upcoming|future|scheduled|mendatang|berikutnya|dijadwalkan|selanjutnya)\b"),
        re.compile(r"\b(akan|rencana|diharapkan|harap|ingin|mendatang|berikutnya|selanjutnya|dijadwalkan|target)\b"),
    ),
    (
        re.compile(r"\b(before|previous|previously|former|formerly|earlier|sebelum|sebelumnya|mantan|terdahulu)\b"),
        re.compile(r"\b(sebelum|sebelumnya|mantan|pernah|terdahulu|dulu|sempat)\b"),
    ),
)


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, searcher: SentenceSearcher, abstention: AbstentionPolicy | None = None, selection: SelectionPolicy | None = None) -> None:
        self.searcher = searcher
        self.abstention = abstention or AbstentionPolicy.for_embedder(searcher.index.embedder.model_id)
        self.selection = selection or SelectionPolicy()

    def answer(self, question: str, history: Sequence[Turn | str] = ()) -> Answer:
        question = normalise(question)
        language = detect_language(question, fallback=history_language(history))
        problem = find_problem(question)
        if problem:
            return refusal(question, problem.reason, language)
        chat = small_talk(question)
        if chat:
            return refusal(question, chat, language)
        if language == "other":
            return refusal(question, "other_language", language)
        if asks_for_summary(question):
            return self.summarise(question, language)
        query = contextualise(question, history)
        scored = self.searcher.score(question, k=5, history=history)
        if self.should_abstain(query, scored):
            return refusal(question, "not_in_article", language)
        chosen = self.select(query, scored)
        return compose(question, query, chosen, language, answerer=self.name)

    def summarise(self, question: str, language: Language) -> Answer:
        """A news article's lead (its first sentences) is its summary: quote the first two of the
        document the question is closest to."""
        scored = self.searcher.score(question, k=len(self.searcher.sentences))
        if not scored:
            return refusal(question, "not_in_article", language)
        doc_id = scored[0].sentence.doc_id
        lead = sorted((item for item in scored if item.sentence.doc_id == doc_id), key=lambda item: item.sentence.position)[:LEAD_SENTENCES]
        answer = compose(question, question, lead, language, answerer=self.name)
        markers = " ".join(f"[{citation.marker}]" for citation in answer.citations)
        return replace(answer, summary=f"{message('summary', language)} {markers}.")

    # -- decisions, public so the eval can report on them -----------------------------------------

    def should_abstain(self, query: str, scored: list[ScoredSentence]) -> bool:
        if not scored:
            return True
        best = scored[0]
        policy = self.abstention
        if best.dense < policy.min_dense:
            return True
        kind = question_type(query)
        span_required = kind in SPAN_REQUIRED or (kind == "who" and identity_subject(query) is not None)
        if policy.require_answer_type and span_required and not answer_spans(kind, query, best.sentence.text):
            return True
        language = detect_language(query)
        subject = identity_subject(query)
        if subject and unsupported_share(subject, language, self.searcher.vocabulary) > 0:
            return True  # "Who is the US President?": the article never names the office
        for asks_about, would_say in _OTHER_TIME:
            if asks_about.search(query.lower()) and not would_say.search(best.sentence.text.lower()):
                return True
        unsupported = unsupported_share(query, language, self.searcher.vocabulary)
        return unsupported >= policy.max_unsupported_share and best.dense < policy.unsupported_confident_dense

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


def compose(question: str, query: str, chosen: list[ScoredSentence], language: Language, answerer: str) -> Answer:
    """Short answer first (when a span answers), then the quoted sentences, each with its marker."""
    kind = question_type(query)
    citations = []
    for marker, item in enumerate(chosen, start=1):
        spans = answer_spans(kind, query, item.sentence.text)
        citations.append(Citation.from_hit(marker, item.sentence.to_hit(item.score), highlights=spans))
    with_spans = [citation for citation in citations if citation.highlights]
    if with_spans:
        short = " ".join(f"{_join(citation.highlights, language)} [{citation.marker}]" for citation in with_spans) + "."
    else:
        short = message("see_sentences", language) + " " + " ".join(f"[{citation.marker}]" for citation in citations) + "."
    quotes = " ".join(f"{_quote(citation.text)} [{citation.marker}]" for citation in citations)
    full = f"{message('according_to', language)} {quotes}"
    text = f"{short}\n{full}" if with_spans else full
    return Answer(
        question=question, text=text, abstained=False, citations=tuple(citations), language=language, answerer=answerer, summary=short
    )


def refusal(question: str, reason: str, language: Language, answerer: str = "extractive") -> Answer:
    """An honest non-answer: no citations, no markers."""
    return Answer(question=question, text=message(reason, language), abstained=True, citations=(), language=language, answerer=answerer)


def _join(items: Sequence[str], language: Language) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {message('and', language)} {items[-1]}"


def _quote(sentence: str) -> str:
    return sentence if sentence[:1] in "\"“'‘" else f"“{sentence}”"


def history_language(history: Sequence[Turn | str]) -> Language:
    for turn in reversed(history):
        text = turn if isinstance(turn, str) else turn.text
        if isinstance(turn, str) or turn.role == "user":
            language = detect_language(text, fallback="other")
            if language in ("id", "en"):
                return language
    return "id"
