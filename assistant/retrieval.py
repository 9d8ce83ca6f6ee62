"""Sentence retrieval: dense (e5 in Chroma) fused with BM25 over Indonesian stems.

`SentenceSearcher` is the project's own retriever (returns `Hit`s). `as_langchain_retriever`
wraps it as a LangChain `BaseRetriever`, the one place LangChain `Document`s appear on the query side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.lexical import BM25Index, query_stems, tokenize
from assistant.store import SentenceIndex, Snapshot, StoredSentence, VersionGoneError
from assistant.types import Hit, Turn

RETRIEVAL_MODES = ("dense", "hybrid")
ANSWER_TYPES = ("who", "when", "time", "duration", "where", "how_many")
"""Question kinds whose answer is a recognisable span; a best sentence without one means abstain.
("role" has a span too, but "apa peran X" also asks the role of a thing, which has none.)"""

# Fusion weights relative to the dense cosine, measured on the eval suite (README, "Retrieval").
# BM25 is max-normalised per question, so it reorders sentences whose cosines are close (names,
# numbers, the article's own terms) but cannot outweigh a clear dense winner. The answer-type prior
# nudges sentences that hold what the question asks for (a date for "when", a number for "how many").
BM25_WEIGHT = 0.06
ANSWER_TYPE_WEIGHT = 0.01


@dataclass(frozen=True)
class ScoredSentence:
    sentence: StoredSentence
    score: float
    dense: float
    lexical: float
    answer_type: float = 0.0


class SentenceSearcher:
    """Ranks the sentences of the active index version for a question.

    Each question runs against one snapshot (sentences, BM25, Chroma collection) taken when it
    starts, so an ingest that switches versions mid-question cannot mix old and new sentences.
    Between questions the searcher notices a new version (checking at most every
    `refresh_seconds`) and moves to it without a restart.
    """

    def __init__(self, index: SentenceIndex, snapshot: Snapshot, mode: str = "hybrid", bm25_weight: float = BM25_WEIGHT, refresh_seconds: float = 1.0) -> None:
        if mode not in RETRIEVAL_MODES:
            raise ValueError(f"retrieval mode must be one of {RETRIEVAL_MODES}, got {mode!r}")
        self.index = index
        self.mode = mode
        self.bm25_weight = bm25_weight
        self.refresh_seconds = refresh_seconds
        self._state = _SearchState.build(snapshot)
        # Questions repeat (Slack retries, follow-up blends, the eval's retrieve-then-ask): embed once.
        self._embed_query = lru_cache(maxsize=1024)(index.embedder.embed_query)
        self._checked_at = time.monotonic()
        self._lock = threading.Lock()

    @property
    def snapshot(self) -> Snapshot:
        return self._state.snapshot

    @property
    def sentences(self) -> dict[str, StoredSentence]:
        return self._state.sentences

    @property
    def vocabulary(self) -> set[str]:
        return self._state.vocabulary

    def refresh(self, force: bool = False) -> bool:
        """Move to the active version if ingest switched it; True if the searcher moved."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.refresh_seconds:
            return False
        with self._lock:
            self._checked_at = now
            manifest = self.index.require_manifest()
            if manifest["collection"] == self._state.snapshot.collection:
                return False
            self._state = _SearchState.build(self.index.snapshot(manifest))
            return True

    def clear_query_cache(self) -> None:
        """Forget cached query embeddings (benchmarks time questions as if never seen)."""
        self._embed_query.cache_clear()

    def search(self, question: str, k: int = 5, history: Sequence[Turn | str] = ()) -> list[Hit]:
        return [scored.sentence.to_hit(scored.score) for scored in self.score(question, k, history)]

    def score(self, question: str, k: int = 5, history: Sequence[Turn | str] = ()) -> list[ScoredSentence]:
        """The k best sentences with every signal, best first. A follow-up (given its `history`) is
        scored both as asked and with the previous question's words, averaged: the question's own
        words keep the lead, the earlier subject fills in its pronouns."""
        if not question.strip():
            return []
        from assistant.answering.question import contextualise

        with_context = contextualise(question, history) if history else question
        self.refresh()
        try:
            return self._score_follow_up(self._state, question, with_context, k)
        except VersionGoneError:  # an ingest collected the version this question started on
            self.refresh(force=True)
            return self._score_follow_up(self._state, question, with_context, k)

    def _score_follow_up(self, state: _SearchState, question: str, with_context: str, k: int) -> list[ScoredSentence]:
        if with_context == question:
            return self._score(state, question, k)
        pool = len(state.sentences)
        alone = {item.sentence.sentence_id: item for item in self._score(state, question, pool)}
        contextual = {item.sentence.sentence_id: item for item in self._score(state, with_context, pool)}
        blended = [_average(alone.get(sentence_id), contextual.get(sentence_id)) for sentence_id in set(alone) | set(contextual)]
        blended.sort(key=lambda item: (-item.score, item.sentence.doc_id, item.sentence.position))
        return blended[:k]

    def _score(self, state: _SearchState, question: str, k: int) -> list[ScoredSentence]:
        """Score against one version (`state`) for the whole question."""
        if not state.sentences:
            return []
        from assistant.answering.language import detect_language
        from assistant.answering.question import question_type
        from assistant.answering.spans import answer_spans

        pool = len(state.sentences)  # small indexes: score every sentence densely, exact and cheap
        query_embedding = self._embed_query(question)
        dense = dict(self.index.dense_search(state.snapshot.collection, query_embedding, k=min(pool, max(50, k))))
        lexical: dict[str, float] = {}
        kind = "what"
        if self.mode == "hybrid":
            bm25 = state.bm25.search(query_stems(question, detect_language(question)), k=pool)
            top = bm25[0][1] if bm25 else 0.0
            lexical = {sentence_id: score / top for sentence_id, score in bm25} if top > 0 else {}
            kind = question_type(question)
        scored = []
        for sentence_id in set(dense) | set(lexical):
            if sentence_id not in state.sentences:
                continue
            sentence = state.sentences[sentence_id]
            typed = 1.0 if kind in ANSWER_TYPES and answer_spans(kind, question, sentence.text) else 0.0
            scored.append(
                ScoredSentence(
                    sentence=sentence,
                    score=dense.get(sentence_id, 0.0) + self.bm25_weight * lexical.get(sentence_id, 0.0) + ANSWER_TYPE_WEIGHT * typed,
                    dense=dense.get(sentence_id, 0.0),
                    lexical=lexical.get(sentence_id, 0.0),
                    answer_type=typed,
                )
            )
        scored.sort(key=lambda item: (-item.score, item.sentence.doc_id, item.sentence.position))
        return scored[:k]


def _average(first: ScoredSentence | None, second: ScoredSentence | None) -> ScoredSentence:
    present = [item for item in (first, second) if item is not None]
    return ScoredSentence(
        sentence=present[0].sentence,
        score=sum(item.score for item in present) / 2,
        dense=sum(item.dense for item in present) / 2,
        lexical=sum(item.lexical for item in present) / 2,
        answer_type=max(item.answer_type for item in present),
    )


@dataclass(frozen=True)
class _SearchState:
    """Everything a question needs from one index version, built once per version."""

    snapshot: Snapshot
    sentences: dict[str, StoredSentence]
    bm25: BM25Index
    vocabulary: set[str]
    """Every stem and word of the article: lets the answerer notice terms the article never uses."""

    @classmethod
    def build(cls, snapshot: Snapshot) -> _SearchState:
        rows = snapshot.sentences
        return cls(
            snapshot=snapshot,
            sentences={row.sentence_id: row for row in rows},
            bm25=BM25Index([row.sentence_id for row in rows], [row.stems.split() for row in rows]),
            vocabulary={term for row in rows for term in row.stems.split()} | {token for row in rows for token in tokenize(row.text)},
        )


def as_langchain_retriever(searcher: SentenceSearcher, k: int = 5):
    """A LangChain `BaseRetriever` over the searcher, for composing into users' own chains."""
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class ArticleSentenceRetriever(BaseRetriever):
        """Returns article sentences as Documents; metadata carries sentence_id, position and score."""

        k: int = 5

        def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
            return [
                Document(
                    page_content=hit.text,
                    id=hit.sentence_id,
                    metadata={
                        "sentence_id": hit.sentence_id,
                        "doc_id": hit.doc_id,
                        "position": hit.position,
                        "score": hit.score,
                        "title": hit.title,
                        "source": hit.source,
                    },
                )
                for hit in searcher.search(query, k=self.k)
            ]

    return ArticleSentenceRetriever(k=k)
