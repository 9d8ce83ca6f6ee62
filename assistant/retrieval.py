"""Sentence retrieval: dense (e5 in Chroma) fused with BM25 over both languages' stems and translations.

`SentenceSearcher` is the project's own retriever (returns `Hit`s). `as_langchain_retriever`
wraps it as a LangChain `BaseRetriever`, the one place LangChain `Document`s appear on the query side.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.bm25 import LexicalScores, SparseBM25
from assistant.lexicon import Lexicon, default_lexicon, term_occurs
from assistant.query import TYPED_KINDS, Query
from assistant.spans import answer_spans
from assistant.store import DocumentRecord, SentenceIndex, Snapshot, StoredSentence, VersionGoneError
from assistant.types import Hit, Turn

RETRIEVAL_MODES = ("dense", "hybrid")

# Fusion weights relative to the dense cosine (docs/design.md, "Retrieval"). BM25 is max-normalised per question
# and per document, so it reorders sentences whose cosines are close (names, numbers, the article's
# own terms) but cannot outweigh a clear dense winner, and one article's words never rescale another's.
# The answer-type prior nudges sentences that hold what the question asks for (a date for "when").
BM25_WEIGHT = 0.06
ANSWER_TYPE_WEIGHT = 0.01

DENSE_CANDIDATES = 50
"""A question scores the sentences closest in meaning (this many, or k if more) and the best BM25
matches; nothing else can reach its top k (see `SentenceSearcher._score_closest`)."""
EVERY_SENTENCE_CAP = 200
"""How far a follow-up's candidate set grows to prove its top k exact (`_score_every_sentence`)."""
EXACT_BATCH = 8
"""Candidates scored exactly at a time (one Chroma read for those not yet in memory)."""
COSINE_SLACK = 1e-6
"""A cosine computed here from a stored embedding may differ from Chroma's in the last float digits."""
SENTENCES_KEPT = 4096
VOCABULARIES_KEPT = 256


@dataclass(frozen=True)
class ScoredSentence:
    sentence: StoredSentence
    score: float
    dense: float
    lexical: float
    answer_type: float = 0.0
    coverage: float = 0.0
    """Share of the question's key terms the sentence has (any language): breaks ties."""


class SentenceSearcher:
    """Ranks the sentences of the active index version for a question.

    Each question runs against one snapshot (sentences, BM25, Chroma collection) taken when it
    starts, so an ingest that switches versions mid-question cannot mix old and new sentences.
    Between questions the searcher notices a new version (checking at most every
    `refresh_seconds`) and moves to it without a restart.

    A question costs the same whatever the archive holds: it re-scores only a bounded candidate set
    (the closest sentences by meaning and the best BM25 matches), and sentences are read from Chroma
    when they become candidates instead of all being kept in memory.
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
        index.open_for_reading(snapshot.collection, fresh=False)  # the vectors as of now, which include every version `snapshot` names
        self._state = _SearchState(index, snapshot, self.base_lexicon)
        # Questions repeat (Slack retries, follow-up blends, the eval's retrieve-then-ask): embed once.
        self._embed_query = lru_cache(maxsize=1024)(index.embedder.embed_query)
        self._checked_at = time.monotonic()
        self._manifest_text: str | None = None
        self._lock = threading.Lock()

    @property
    def snapshot(self) -> Snapshot:
        return self._state.snapshot

    @property
    def sentences(self) -> Mapping[str, StoredSentence]:
        """Every sentence of the version by id, read from the index when first looked up."""
        return self._state.sentences

    @property
    def lexicon(self) -> Lexicon:
        """The language data, plus the place names the ingested articles use."""
        return self._state.lexicon

    @property
    def bm25(self) -> SparseBM25:
        """The BM25 index of the current version (built at its first use; `nbytes` says its size)."""
        return self._state.bm25

    def vocabulary(self, doc_id: str) -> frozenset[str]:
        """Every term of one document: lets the answerer notice words the article never uses."""
        return self._state.vocabulary(doc_id)

    def document(self, doc_id: str) -> dict:
        return self._state.snapshot.manifest.get("documents", {}).get(doc_id, {})

    def refresh(self, force: bool = False) -> bool:
        """Follow the documents ingest switched since this searcher's snapshot; True if any changed.

        The catalog header is read (at most every `refresh_seconds`); when its generation moved, only
        the catalog records switched since are read, and the BM25 index is patched with them."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.refresh_seconds:
            return False
        with self._lock:
            self._checked_at = now
            text = self.index.manifest_text()
            if text is not None and text == self._manifest_text:
                return False
            header = self.index.parse_header(text)
            if header is None:  # the index was deleted under us
                self.index.require_manifest()
                return False
            change = self.index.changes_since(self._state.snapshot, header)
            if change is None:  # rebuilt from nothing, or another embedder: read it all again
                snapshot, changed = self.index.snapshot(), None
            else:
                snapshot, changed = change
                if not changed and snapshot.collection == self._state.snapshot.collection:
                    self._manifest_text = text
                    return False
            if not snapshot.manifest["documents"]:
                self.index.require_manifest()  # emptied (reset): "nothing has been ingested", until the next ingest
            # After reading the catalog: the vectors then hold every version it names.
            if not self.index.open_for_reading(snapshot.collection):
                return False  # a writer holds the index; stay on this snapshot and look again next time
            self._manifest_text = text
            if changed is None:
                self._state = _SearchState(self.index, snapshot, self.base_lexicon)
            else:
                self._state = _SearchState(self.index, snapshot, self.base_lexicon, previous=self._state, changed=changed)
            return True

    def clear_query_cache(self) -> None:
        """Forget cached query embeddings (benchmarks time questions as if never seen)."""
        self._embed_query.cache_clear()

    def parse(self, question: str | Query, history: Sequence[Turn | str] = ()) -> Query:
        return question if isinstance(question, Query) else Query.parse(question, history, self.lexicon)

    def search(self, question: str | Query, k: int = 5, history: Sequence[Turn | str] = ()) -> list[Hit]:
        return [scored.sentence.to_hit(scored.score) for scored in self.score(self.parse(question, history), k)]

    def score(self, query: Query, k: int = 5, *, every_sentence: bool = False) -> list[ScoredSentence]:
        """The k best sentences with every signal, best first. A follow-up is scored both as asked and
        with the previous question's words, averaged: the question's own words keep the lead, the
        earlier subject fills in its pronouns.

        A plain question ranks the closest `DENSE_CANDIDATES` sentences by meaning (more if k is
        larger) and the BM25 matches; a follow-up, or `every_sentence=True`, ranks every sentence by
        its own cosine, which the candidate bound below makes affordable."""
        if not query.text.strip():
            return []
        self.refresh()
        return self._on_current_version(lambda state: self._score_query(state, query, k, every_sentence))

    def lead(self, query: Query, doc_id: str, n: int) -> list[ScoredSentence]:
        """A document's first n sentences, scored as `score(..., every_sentence=True)` scores them."""
        return self._on_current_version(lambda state: self._lead(state, query, doc_id, n))

    def around(self, sentences: Sequence[StoredSentence], radius: int) -> list[StoredSentence]:
        """The given sentences and `radius` neighbours on each side, document by document in
        article order: the passage the reader reads."""
        try:
            return self._around(self._state, sentences, radius)
        except VersionGoneError:
            self.refresh(force=True)
            return self._around(self._state, sentences, radius)

    def _around(self, state: _SearchState, sentences: Sequence[StoredSentence], radius: int) -> list[StoredSentence]:
        wanted = []
        for doc_id in dict.fromkeys(sentence.doc_id for sentence in sentences):
            rows = state.bm25.rows_of_document(doc_id)
            positions = {p for s in sentences if s.doc_id == doc_id for p in range(s.position - radius, s.position + radius + 1) if 0 <= p < len(rows)}
            wanted += [state.bm25.sentence_ids[rows[p]] for p in sorted(positions)]
        found = state.sentences.fetch(wanted).values()
        return sorted(found, key=lambda sentence: (sentence.doc_id != sentences[0].doc_id, sentence.doc_id, sentence.position))

    def _on_current_version(self, scoring: Callable[[_SearchState], list[ScoredSentence]]) -> list[ScoredSentence]:
        try:
            return scoring(self._state)
        except VersionGoneError:  # an ingest collected the version this question started on
            self.refresh(force=True)
            return scoring(self._state)

    def _lead(self, state: _SearchState, query: Query, doc_id: str, n: int) -> list[ScoredSentence]:
        ids = [state.bm25.sentence_ids[row] for row in state.bm25.rows_of_document(doc_id)[:n]]
        texts = _texts(query)
        scoring = _Scoring(query, texts, [{} for _ in texts], [1.0 for _ in texts], self._lexical(state, texts), _typed(query))
        return sorted(self._exact(state, scoring, ids), key=lambda item: item.sentence.position)

    def _score_query(self, state: _SearchState, query: Query, k: int, every_sentence: bool) -> list[ScoredSentence]:
        if len(state.bm25) == 0:
            return []
        if query.retrieval_text == query.text and not every_sentence and k < len(state.bm25):
            return self._score_closest(state, query, k)
        return self._score_every_sentence(state, query, k)

    def _score_closest(self, state: _SearchState, query: Query, k: int) -> list[ScoredSentence]:
        """Sentences beyond the closest max(DENSE_CANDIDATES, k) get dense 0, as they always have, so
        a BM25 match among them scores its BM25 and answer type only and ranks below every dense match
        unless cosines are tiny. Candidates: the dense ones and the k best BM25 ones; all BM25 matches
        in the rare case one left out could still reach the k-th score."""
        texts = _texts(query)
        dense = self.index.dense_search(state.snapshot, self._embed_query(query.text), k=min(len(state.bm25), max(DENSE_CANDIDATES, k)))
        lexical = self._lexical(state, texts)
        scoring = _Scoring(query, texts, [dict(dense)], [None], lexical, _typed(query))
        candidates = list(scoring.cosines[0])
        if lexical[0] is None:
            return self._best(state, scoring, candidates, k)
        candidates += [state.bm25.sentence_ids[row] for row in lexical[0].top(k).tolist()]
        ranked = self._best(state, scoring, candidates, k)
        beyond = self.bm25_weight * lexical[0].best_outside_top(k) + (ANSWER_TYPE_WEIGHT if scoring.typed else 0.0)
        if len(ranked) < k or round(ranked[k - 1].score, 6) <= round(beyond, 6):
            ranked = self._best(state, scoring, candidates + [state.bm25.sentence_ids[row] for row in lexical[0].rows.tolist()], k)
        return ranked

    def _score_every_sentence(self, state: _SearchState, query: Query, k: int) -> list[ScoredSentence]:
        """Every sentence scored by its own cosine to each of the query's texts (a follow-up has two,
        averaged), best k. Exact without scoring every sentence: candidates are the closest n by each
        text and the k best BM25 matches, with n growing until no sentence outside them can reach the
        k-th score (its cosine to each text is at most the n-th one, its BM25 at most the best left
        out). Past `EVERY_SENTENCE_CAP` the bound is not pursued further: in a large archive a
        follow-up ranks the sentences closest to either of its texts and the best BM25 matches."""
        texts = _texts(query)
        total = len(state.bm25)
        lexical = self._lexical(state, texts)
        typed = _typed(query)
        n = max(DENSE_CANDIDATES, k)
        while True:
            dense = [self.index.dense_search(state.snapshot, self._embed_query(text), k=min(n, total)) for text, _ in texts]
            nth = [matches[-1][1] if matches else 0.0 for matches in dense]
            cosines = [dict(matches) for matches in dense]
            candidates = list(dict.fromkeys(sentence_id for known in cosines for sentence_id in known))
            candidates += [state.bm25.sentence_ids[row] for scores in lexical if scores is not None for row in scores.top(k).tolist()]
            # Every candidate's cosine to every text, in one read of the stored embeddings: with only
            # the bound for the ones Chroma did not return, far more candidates needed exact scoring.
            self._complete_cosines(state, texts, cosines, candidates)
            scoring = _Scoring(query, texts, cosines, nth, lexical, typed)
            ranked = self._best(state, scoring, candidates, k)
            if n >= total or n >= EVERY_SENTENCE_CAP:
                return ranked
            beyond = sum(
                cosine + COSINE_SLACK + (self.bm25_weight * scores.best_outside_top(k) if scores is not None else 0.0)
                for cosine, scores in zip(nth, lexical, strict=True)
            ) / len(texts) + (ANSWER_TYPE_WEIGHT if typed else 0.0)
            if len(ranked) == k and round(ranked[k - 1].score, 6) > round(beyond, 6):
                return ranked
            n *= 4

    def _complete_cosines(
        self, state: _SearchState, texts: Sequence[tuple[str, Sequence[str]]], cosines: list[dict[str, float]], candidates: list[str]
    ) -> None:
        missing = list(dict.fromkeys(sentence_id for sentence_id in candidates for known in cosines if sentence_id not in known))
        embeddings = self.index.get_embeddings(state.snapshot, missing)
        found = [sentence_id for sentence_id in missing if sentence_id in embeddings]
        if not found:
            return
        matrix = np.asarray([embeddings[sentence_id] for sentence_id in found], dtype=np.float64)
        norms = np.linalg.norm(matrix, axis=1)
        for (text, _), known in zip(texts, cosines, strict=True):
            question = np.asarray(self._embed_query(text), dtype=np.float64)
            values = (matrix @ question / (norms * np.linalg.norm(question))).tolist()
            for sentence_id, value in zip(found, values, strict=True):
                known.setdefault(sentence_id, value)

    def _lexical(self, state: _SearchState, texts: list[tuple[str, Sequence[str]]]) -> list[LexicalScores | None]:
        return [state.bm25.scores(terms) if self.mode == "hybrid" else None for _, terms in texts]

    def _best(self, state: _SearchState, scoring: _Scoring, candidates: Iterable[str], k: int) -> list[ScoredSentence]:
        """The k best candidates. A candidate's exact score needs its answer spans (and, for a
        cosine Chroma did not return, its stored embedding), the costly part of a question; so
        candidates are scored exactly in order of the most they could score, and only until none
        left could reach the k-th exact score."""
        bounded = sorted(((self._upper(state, scoring, sentence_id), sentence_id) for sentence_id in set(candidates)), reverse=True)
        exact: list[ScoredSentence] = []
        done = 0
        while done < len(bounded):
            if len(exact) >= k:
                exact.sort(key=_rank_key)
                if round(exact[k - 1].score, 6) > round(bounded[done][0], 6):
                    break
            batch = [sentence_id for _, sentence_id in bounded[done : done + EXACT_BATCH]]
            done += len(batch)
            exact += self._exact(state, scoring, batch)
        exact.sort(key=_rank_key)
        return exact[:k]

    def _upper(self, state: _SearchState, scoring: _Scoring, sentence_id: str) -> float:
        """The most a sentence can score: known cosines and BM25, the answer-type prior assumed met."""
        row = state.bm25.row_of[sentence_id]
        total = 0.0
        for cosines, beyond, lexical in zip(scoring.cosines, scoring.beyond, scoring.lexical, strict=True):
            cosine = cosines.get(sentence_id)
            if cosine is None:
                cosine = 0.0 if beyond is None else beyond + COSINE_SLACK
            bm25 = float(lexical.value[row]) if lexical is not None else 0.0
            total += cosine + self.bm25_weight * bm25 + (ANSWER_TYPE_WEIGHT if scoring.typed else 0.0)
        return total / len(scoring.texts)

    def _exact(self, state: _SearchState, scoring: _Scoring, sentence_ids: list[str]) -> list[ScoredSentence]:
        """Sentences scored with every signal, averaged over the query's texts."""
        sentences = state.sentences.fetch(sentence_ids)
        unknown = [
            sentence_id
            for sentence_id in sentences
            if any(beyond is not None and sentence_id not in cosines for cosines, beyond in zip(scoring.cosines, scoring.beyond, strict=True))
        ]
        embeddings = self.index.get_embeddings(state.snapshot, unknown)
        result = []
        for sentence_id, sentence in sentences.items():
            per_text = []
            for (text, _), cosines, beyond, lexical in zip(scoring.texts, scoring.cosines, scoring.beyond, scoring.lexical, strict=True):
                if sentence_id in cosines:
                    cosine = cosines[sentence_id]
                elif beyond is None:
                    cosine = 0.0
                else:
                    cosine = _cosine(self._embed_query(text), embeddings[sentence_id])
                per_text.append(self._scored(state, scoring.query, sentence, cosine, lexical, scoring.typed))
            result.append(per_text[0] if len(per_text) == 1 else _average(*per_text))
        return result

    def _scored(self, state: _SearchState, query: Query, sentence: StoredSentence, dense: float, lexical: LexicalScores | None, typed: bool) -> ScoredSentence:
        row = state.bm25.row_of[sentence.sentence_id]
        bm25 = float(lexical.value[row]) if lexical is not None else 0.0
        answer_type = 1.0 if typed and answer_spans(query, sentence.text, self.lexicon) else 0.0
        return ScoredSentence(
            sentence=sentence,
            score=dense + self.bm25_weight * bm25 + ANSWER_TYPE_WEIGHT * answer_type,
            dense=dense,
            lexical=bm25,
            answer_type=answer_type,
            coverage=coverage(query, frozenset(sentence.stems.split())),
        )


@dataclass(frozen=True)
class _Scoring:
    """One question against one version: per text (a follow-up has two), the cosines Chroma returned
    and what a sentence it did not return counts as (`beyond`: None for 0, as a plain question's
    ranking has it; else its own cosine, computed from its stored embedding and at most `beyond`),
    and the BM25 scores."""

    query: Query
    texts: Sequence[tuple[str, Sequence[str]]]
    cosines: Sequence[dict[str, float]]
    beyond: Sequence[float | None]
    lexical: Sequence[LexicalScores | None]
    typed: bool


def _typed(query: Query) -> bool:
    return any(kind in TYPED_KINDS for kind in query.kinds)


def _texts(query: Query) -> list[tuple[str, Sequence[str]]]:
    """The texts a question is scored with: as asked, and for a follow-up also with the earlier words."""
    if query.retrieval_text == query.text:
        return [(query.text, query.search_terms)]
    return [(query.text, query.search_terms), (query.retrieval_text, query.context_search_terms)]


def _cosine(query: Sequence[float], sentence: Sequence[float]) -> float:
    """Cosine similarity, as Chroma's cosine space gives it (1 - distance)."""
    a = np.asarray(query, dtype=np.float64)
    b = np.asarray(sentence, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


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


class _SearchState:
    """Everything a question needs from one catalog snapshot. The BM25 index is built at its first use
    (once, whichever thread asks first) and shared; sentences and vocabularies are read on demand.
    A state that follows a switch (`previous`, `changed`) patches the previous one's BM25 index and
    keeps what it had read of the documents that did not change."""

    def __init__(
        self, index: SentenceIndex, snapshot: Snapshot, lexicon: Lexicon, previous: _SearchState | None = None, changed: Sequence[DocumentRecord] = ()
    ) -> None:
        self.index = index
        self.snapshot = snapshot
        self.lexicon = lexicon.with_article_places(
            {word for document in snapshot.manifest.get("documents", {}).values() for word in document.get("places", ())}
        )
        self.sentences = SentenceLookup(self)
        self._bm25: SparseBM25 | None = None
        self._vocabularies: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()
        self._previous = previous
        self._changed = tuple(changed)
        if previous is not None:
            changed_ids = {record.doc_id for record in changed}
            self.sentences.remember(sentence for sentence in previous.sentences.kept() if sentence.doc_id not in changed_ids)
            self._vocabularies.update((doc_id, terms) for doc_id, terms in previous._vocabularies.items() if doc_id not in changed_ids)

    @property
    def bm25(self) -> SparseBM25:
        if self._bm25 is None:
            with self._lock:
                if self._bm25 is None:
                    previous = self._previous._bm25 if self._previous is not None else None
                    if previous is not None and not self._changed:  # a compaction: the same sentences
                        self._bm25 = previous
                    elif previous is not None:
                        added = [
                            (sentence_id, record.doc_id, terms.split()) for record in self._changed if record.version for sentence_id, terms in record.terms
                        ]
                        self._bm25 = previous.replaced([record.doc_id for record in self._changed], added)
                    else:
                        self._bm25 = SparseBM25(self.index.sentence_terms(self.snapshot))
                    self._previous = None  # not kept alive: a chain of states would hold every old index
        return self._bm25

    def vocabulary(self, doc_id: str) -> frozenset[str]:
        with self._lock:
            if doc_id in self._vocabularies:
                self._vocabularies.move_to_end(doc_id)
                return self._vocabularies[doc_id]
        terms = self.bm25.document_terms(doc_id)
        with self._lock:
            self._vocabularies[doc_id] = terms
            if len(self._vocabularies) > VOCABULARIES_KEPT:
                self._vocabularies.popitem(last=False)
        return terms


class SentenceLookup(Mapping[str, StoredSentence]):
    """The sentences of one version by id. Candidates arrive with Chroma's answers or are read in one
    request; the most recently used `SENTENCES_KEPT` stay in memory (the rest of the archive does not)."""

    def __init__(self, state: _SearchState) -> None:
        self._state = state
        self._kept: OrderedDict[str, StoredSentence] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, sentences: Iterable[StoredSentence]) -> None:
        with self._lock:
            for sentence in sentences:
                self._kept[sentence.sentence_id] = sentence
                self._kept.move_to_end(sentence.sentence_id)
            while len(self._kept) > SENTENCES_KEPT:
                self._kept.popitem(last=False)

    def kept(self) -> list[StoredSentence]:
        with self._lock:
            return list(self._kept.values())

    def fetch(self, sentence_ids: Iterable[str]) -> dict[str, StoredSentence]:
        """The sentences among `sentence_ids` that the version holds, in the order asked."""
        wanted = list(dict.fromkeys(sentence_ids))
        with self._lock:
            found = {sentence_id: self._kept[sentence_id] for sentence_id in wanted if sentence_id in self._kept}
        missing = [sentence_id for sentence_id in wanted if sentence_id not in found and sentence_id in self._state.bm25.row_of]
        for start in range(0, len(missing), 1000):
            read = self._state.index.get_sentences(self._state.snapshot, missing[start : start + 1000])
            self.remember(read)
            found |= {sentence.sentence_id: sentence for sentence in read}
        return {sentence_id: found[sentence_id] for sentence_id in wanted if sentence_id in found}

    def __getitem__(self, sentence_id: str) -> StoredSentence:
        found = self.fetch([sentence_id])
        if sentence_id not in found:
            raise KeyError(sentence_id)
        return found[sentence_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._state.bm25.sentence_ids)

    def __len__(self) -> int:
        return len(self._state.bm25)

    def __contains__(self, sentence_id: object) -> bool:
        return sentence_id in self._state.bm25.row_of

    def values(self):  # read in pages, not one request per sentence
        ids = self._state.bm25.sentence_ids
        for start in range(0, len(ids), 1000):
            yield from self.fetch(ids[start : start + 1000]).values()

    def items(self):  # read in pages too
        for sentence in self.values():
            yield sentence.sentence_id, sentence


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
