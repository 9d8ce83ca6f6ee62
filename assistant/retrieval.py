"""Sentence retrieval: dense (e5 in Chroma) fused with BM25 over both languages' stems and translations.

`SentenceSearcher` is the project's own retriever (returns `Hit`s). `as_langchain_retriever`
wraps it as a LangChain `BaseRetriever`, the one place LangChain `Document`s appear on the query side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.lexicon import Lexicon, default_lexicon, term_occurs
from assistant.query import TYPED_KINDS, Query
from assistant.spans import answer_spans
from assistant.store import SentenceIndex, Snapshot, StoredSentence, VersionGoneError
from assistant.types import Hit, Turn

RETRIEVAL_MODES = ("dense", "hybrid")

# Fusion weights relative to the dense cosine (README, "Retrieval"). BM25 is max-normalised per question
# and per document, so it reorders sentences whose cosines are close (names, numbers, the article's
# own terms) but cannot outweigh a clear dense winner, and one article's words never rescale another's.
# The answer-type prior nudges sentences that hold what the question asks for (a date for "when").
BM25_WEIGHT = 0.06
ANSWER_TYPE_WEIGHT = 0.01


@dataclass(frozen=True)
class ScoredSentence:
    sentence: StoredSentence
    score: float
    dense: float
    lexical: float
    answer_type: float = 0.0
    coverage: float = 0.0
    """Share of the question's key terms the sentence has (any language): breaks ties."""


class BM25Index:
    """BM25 (Okapi, via rank-bm25) over one document's pre-computed sentence terms."""

    def __init__(self, ids: list[str], terms: list[list[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.ids = ids
        self._bm25 = BM25Okapi([tokens or ["∅"] for tokens in terms]) if ids else None

    def search(self, query_terms: Sequence[str]) -> dict[str, float]:
        """Scores divided by the best one (so 1.0 is this document's best match); zeros left out."""
        if not self._bm25 or not query_terms:
            return {}
        scores = self._bm25.get_scores(list(query_terms))
        top = float(max(scores)) if len(scores) else 0.0
        if top <= 0:
            return {}
        return {sentence_id: float(score) / top for sentence_id, score in zip(self.ids, scores) if score > 0}


class SentenceSearcher:
    """Ranks the sentences of the active index version for a question.

    Each question runs against one snapshot (sentences, BM25, Chroma collection) taken when it
    starts, so an ingest that switches versions mid-question cannot mix old and new sentences.
    Between questions the searcher notices a new version (checking at most every
    `refresh_seconds`) and moves to it without a restart.
    """

    def __init__(
        self,
        index: SentenceIndex,
        snapshot: Snapshot,
        mode: str = "hybrid",
        bm25_weight: float = BM25_WEIGHT,
        refresh_seconds: float = 1.0,
        lexicon: Lexicon | None = None,
    ) -> None:
        if mode not in RETRIEVAL_MODES:
            raise ValueError(f"retrieval mode must be one of {RETRIEVAL_MODES}, got {mode!r}")
        self.index = index
        self.mode = mode
        self.bm25_weight = bm25_weight
        self.refresh_seconds = refresh_seconds
        self.base_lexicon = lexicon or default_lexicon()
        self._state = _SearchState.build(snapshot, self.base_lexicon)
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
    def lexicon(self) -> Lexicon:
        """The language data, plus the place names the ingested articles use."""
        return self._state.lexicon

    def vocabulary(self, doc_id: str) -> frozenset[str]:
        """Every term of one document: lets the answerer notice words the article never uses."""
        return self._state.vocabularies.get(doc_id, frozenset())

    def document(self, doc_id: str) -> dict:
        return self._state.snapshot.manifest.get("documents", {}).get(doc_id, {})

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
            self._state = _SearchState.build(self.index.snapshot(manifest), self.base_lexicon)
            return True

    def clear_query_cache(self) -> None:
        """Forget cached query embeddings (benchmarks time questions as if never seen)."""
        self._embed_query.cache_clear()

    def parse(self, question: str | Query, history: Sequence[Turn | str] = ()) -> Query:
        return question if isinstance(question, Query) else Query.parse(question, history, self.lexicon)

    def search(self, question: str | Query, k: int = 5, history: Sequence[Turn | str] = ()) -> list[Hit]:
        return [scored.sentence.to_hit(scored.score) for scored in self.score(self.parse(question, history), k)]

    def score(self, query: Query, k: int = 5) -> list[ScoredSentence]:
        """The k best sentences with every signal, best first. A follow-up is scored both as asked and
        with the previous question's words, averaged: the question's own words keep the lead, the
        earlier subject fills in its pronouns."""
        if not query.text.strip():
            return []
        self.refresh()
        try:
            return self._score_follow_up(self._state, query, k)
        except VersionGoneError:  # an ingest collected the version this question started on
            self.refresh(force=True)
            return self._score_follow_up(self._state, query, k)

    def _score_follow_up(self, state: _SearchState, query: Query, k: int) -> list[ScoredSentence]:
        if query.retrieval_text == query.text:
            return self._score(state, query, query.text, query.search_terms, k)
        pool = len(state.sentences)
        alone = {item.sentence.sentence_id: item for item in self._score(state, query, query.text, query.search_terms, pool)}
        contextual = {item.sentence.sentence_id: item for item in self._score(state, query, query.retrieval_text, query.context_search_terms, pool)}
        blended = [_average(alone.get(sentence_id), contextual.get(sentence_id)) for sentence_id in set(alone) | set(contextual)]
        blended.sort(key=_rank_key)
        return blended[:k]

    def _score(self, state: _SearchState, query: Query, text: str, search_terms: Sequence[str], k: int) -> list[ScoredSentence]:
        """Score against one version (`state`) for the whole question."""
        if not state.sentences:
            return []
        pool = len(state.sentences)  # small indexes: score every sentence densely, exact and cheap
        dense = dict(self.index.dense_search(state.snapshot.collection, self._embed_query(text), k=min(pool, max(50, k))))
        lexical: dict[str, float] = {}
        if self.mode == "hybrid":
            for bm25 in state.bm25.values():
                lexical.update(bm25.search(search_terms))
        typed = any(kind in TYPED_KINDS for kind in query.kinds)
        scored = []
        for sentence_id in set(dense) | set(lexical):
            if sentence_id not in state.sentences:
                continue
            sentence = state.sentences[sentence_id]
            answer_type = 1.0 if typed and answer_spans(query, sentence.text, self.lexicon) else 0.0
            scored.append(
                ScoredSentence(
                    sentence=sentence,
                    score=dense.get(sentence_id, 0.0) + self.bm25_weight * lexical.get(sentence_id, 0.0) + ANSWER_TYPE_WEIGHT * answer_type,
                    dense=dense.get(sentence_id, 0.0),
                    lexical=lexical.get(sentence_id, 0.0),
                    answer_type=answer_type,
                    coverage=coverage(query, state.terms[sentence_id]),
                )
            )
        scored.sort(key=_rank_key)
        return scored[:k]


def coverage(query: Query, terms: frozenset[str]) -> float:
    """Share of the question's key terms that a set of sentence terms contains (1.0 when it has none)."""
    if not query.terms:
        return 1.0
    return sum(term_occurs(term, terms) for term in query.terms) / len(query.terms)


def _rank_key(item: ScoredSentence) -> tuple:
    # Ties break on how much of the question a sentence covers, never on which article came first.
    return (-round(item.score, 6), -item.coverage, item.sentence.doc_id, item.sentence.position)


def _average(first: ScoredSentence | None, second: ScoredSentence | None) -> ScoredSentence:
    present = [item for item in (first, second) if item is not None]
    return ScoredSentence(
        sentence=present[0].sentence,
        score=sum(item.score for item in present) / 2,
        dense=sum(item.dense for item in present) / 2,
        lexical=sum(item.lexical for item in present) / 2,
        answer_type=max(item.answer_type for item in present),
        coverage=max(item.coverage for item in present),
    )


@dataclass(frozen=True)
class _SearchState:
    """Everything a question needs from one index version, built once per version."""

    snapshot: Snapshot
    sentences: dict[str, StoredSentence]
    terms: dict[str, frozenset[str]]
    bm25: dict[str, BM25Index]
    """One BM25 index per document: its statistics never depend on what else the index holds."""
    vocabularies: dict[str, frozenset[str]]
    lexicon: Lexicon

    @classmethod
    def build(cls, snapshot: Snapshot, lexicon: Lexicon) -> _SearchState:
        rows = snapshot.sentences
        by_doc: dict[str, list[StoredSentence]] = {}
        for row in rows:
            by_doc.setdefault(row.doc_id, []).append(row)
        terms = {row.sentence_id: frozenset(row.stems.split()) for row in rows}
        return cls(
            snapshot=snapshot,
            sentences={row.sentence_id: row for row in rows},
            terms=terms,
            bm25={doc_id: BM25Index([row.sentence_id for row in doc_rows], [row.stems.split() for row in doc_rows]) for doc_id, doc_rows in by_doc.items()},
            vocabularies={doc_id: frozenset().union(*(terms[row.sentence_id] for row in doc_rows)) for doc_id, doc_rows in by_doc.items()},
            lexicon=lexicon.with_article_places({word for document in snapshot.manifest.get("documents", {}).values() for word in document.get("places", ())}),
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
