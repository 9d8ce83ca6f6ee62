"""BM25 over every sentence of an index version as one sparse inverted index (numpy arrays).

The scores are exactly the ones the project had with one rank-bm25 `BM25Okapi` per document
(k1 = 1.5, b = 0.75, epsilon = 0.25): each document keeps its own statistics (sentence count,
average length, idf, and the idf floor `epsilon × that document's average idf` for terms in more
than half its sentences), so another article's words never rescale an article's scores, and each
document's scores are divided by its best one. Only the arithmetic moved: the weight of every
(term, sentence) pair is computed once when the index is built, in the same floating-point order
rank-bm25 uses, so a question sums a few postings instead of scoring every sentence in Python.

Memory is a few arrays per posting (a sentence row, a term id, a float64 weight) plus the term
and sentence-id strings; `nbytes` reports it.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

K1 = 1.5
B = 0.75
EPSILON = 0.25
EMPTY = "∅"
"""The token an empty sentence is indexed under (rank-bm25 cannot index an empty list)."""


@dataclass(frozen=True)
class LexicalScores:
    """One question's BM25 over the whole index: `value[row]` is the score divided by the best one
    in that row's document (0 where nothing matched); `rows` are the rows with a positive score."""

    value: np.ndarray
    rows: np.ndarray

    def top(self, n: int) -> np.ndarray:
        """The rows of the n best scores (in no particular order)."""
        if len(self.rows) <= n:
            return self.rows
        best = np.argpartition(-self.value[self.rows], n - 1)[:n]
        return self.rows[best]

    def best_outside_top(self, n: int) -> float:
        """The best score of a row outside `top(n)` (0.0 when no other row matched)."""
        if len(self.rows) <= n:
            return 0.0
        return float(-np.partition(-self.value[self.rows], n)[n])


class SparseBM25:
    """Per-document BM25 for every sentence of one index version, as postings lists.

    Rows are sentences in the order given (the index's document order); `row_of` maps a sentence id
    to its row, `doc_of[row]` is the row's document number, `terms_of(row)` its distinct terms.
    """

    def __init__(self, sentences: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        """`sentences`: (sentence_id, doc_id, terms) in document order, a document's sentences together."""
        self.sentence_ids: list[str] = []
        self.doc_ids: list[str] = []
        term_numbers: dict[str, int] = {}
        # Typed arrays, not lists: at 130,000 sentences a list of Python ints and floats per posting
        # would briefly cost hundreds of MB while building.
        posting_rows = array("i")
        posting_terms = array("i")
        posting_weights = array("d")
        doc_of = array("i")

        def add_document(doc_id: str, doc_rows: list[tuple[str, Sequence[str]]]) -> None:
            first_row = len(self.sentence_ids)
            for offset, (term_row, weight) in enumerate(_document_weights([tokens for _, tokens in doc_rows])):
                for term, value in zip(term_row, weight, strict=True):
                    posting_rows.append(first_row + offset)
                    posting_terms.append(term_numbers.setdefault(term, len(term_numbers)))
                    posting_weights.append(value)
            for sentence_id, _ in doc_rows:
                self.sentence_ids.append(sentence_id)
                doc_of.append(len(self.doc_ids))
            self.doc_ids.append(doc_id)

        seen: set[str] = set()
        current: str | None = None
        pending: list[tuple[str, Sequence[str]]] = []
        for sentence_id, doc_id, tokens in sentences:
            if doc_id != current:
                if doc_id in seen:
                    raise ValueError(f"the sentences of {doc_id!r} must come together")
                seen.add(doc_id)
                if current is not None:
                    add_document(current, pending)
                current, pending = doc_id, []
            pending.append((sentence_id, list(tokens)))
        if current is not None:
            add_document(current, pending)

        self._arrange(
            np.frombuffer(doc_of, dtype=np.int32),
            list(term_numbers),
            np.frombuffer(posting_rows, dtype=np.int32),
            np.frombuffer(posting_terms, dtype=np.int32),
            np.frombuffer(posting_weights, dtype=np.float64),
        )

    def _arrange(self, doc_of: np.ndarray, terms: list[str], rows: np.ndarray, term_ids: np.ndarray, weights: np.ndarray) -> None:
        """Lay the postings (row, term, weight) out for search; `sentence_ids` and `doc_ids` are set,
        `doc_of[row]` numbers each row's document, documents' rows contiguous and in order."""
        self.row_of = {sentence_id: row for row, sentence_id in enumerate(self.sentence_ids)}
        self.doc_of = doc_of
        self._doc_start = np.searchsorted(doc_of, np.arange(len(self.doc_ids) + 1)).astype(np.int64)
        self._doc_numbers = {doc_id: number for number, doc_id in enumerate(self.doc_ids)}
        self.terms = terms
        self._term_numbers = {term: number for number, term in enumerate(terms)}
        # Postings by term (for questions) and by row (a sentence's or a document's terms), CSR style.
        by_term = np.argsort(term_ids, kind="stable")
        self._term_rows = rows[by_term]
        self._term_weights = weights[by_term]
        self._term_start = np.searchsorted(term_ids[by_term], np.arange(len(terms) + 1))
        by_row = np.argsort(rows, kind="stable")
        self._row_terms = term_ids[by_row]
        self._row_start = np.searchsorted(rows[by_row], np.arange(len(self.sentence_ids) + 1))

    def replaced(self, removed: Iterable[str], sentences: Iterable[tuple[str, str, Sequence[str]]]) -> SparseBM25:
        """A new index: this one without the documents in `removed` and those `sentences` bring a new
        version of, plus `sentences` (same form as the constructor's). Costs the changed documents'
        weights and one re-sort of the postings, not a rebuild: scores are per document, so nothing
        else changes."""
        added = SparseBM25(sentences)
        dropped = {self._doc_numbers[doc_id] for doc_id in (*removed, *added.doc_ids) if doc_id in self._doc_numbers}
        kept_docs = np.asarray([number not in dropped for number in range(len(self.doc_ids))], dtype=bool)
        kept_rows = kept_docs[self.doc_of] if len(self.doc_of) else np.zeros(0, dtype=bool)
        new_row = (np.cumsum(kept_rows) - 1).astype(np.int32)
        new_doc = (np.cumsum(kept_docs) - 1).astype(np.int32)

        term_ids = np.repeat(np.arange(len(self.terms), dtype=np.int32), np.diff(self._term_start))
        keep = kept_rows[self._term_rows] if len(self._term_rows) else np.zeros(0, dtype=bool)
        terms = list(self.terms)
        numbers = dict(self._term_numbers)
        for term in added.terms:
            numbers.setdefault(term, len(numbers))
            if len(terms) < len(numbers):
                terms.append(term)
        remap = np.asarray([numbers[term] for term in added.terms], dtype=np.int32)
        added_term_ids = np.repeat(np.arange(len(added.terms), dtype=np.int32), np.diff(added._term_start))

        merged = SparseBM25([])
        merged.sentence_ids = [sentence_id for sentence_id, kept in zip(self.sentence_ids, kept_rows.tolist(), strict=True) if kept] + added.sentence_ids
        merged.doc_ids = [doc_id for doc_id, kept in zip(self.doc_ids, kept_docs.tolist(), strict=True) if kept] + added.doc_ids
        offset_rows = int(kept_rows.sum())
        merged._arrange(
            np.concatenate([new_doc[self.doc_of[kept_rows]], added.doc_of + int(kept_docs.sum())]).astype(np.int32),
            terms,
            np.concatenate([new_row[self._term_rows[keep]], added._term_rows + offset_rows]).astype(np.int32),
            np.concatenate([term_ids[keep], remap[added_term_ids] if len(added_term_ids) else np.zeros(0, dtype=np.int32)]).astype(np.int32),
            np.concatenate([self._term_weights[keep], added._term_weights]),
        )
        return merged

    def __len__(self) -> int:
        return len(self.sentence_ids)

    @property
    def nbytes(self) -> int:
        """Approximate memory held: the arrays plus the id and term strings and their dicts."""
        arrays = sum(a.nbytes for a in (self.doc_of, self._doc_start, self._term_rows, self._term_weights, self._term_start, self._row_terms, self._row_start))
        strings = sum(sys.getsizeof(s) for s in self.sentence_ids) + sum(sys.getsizeof(s) for s in self.terms)
        containers = sum(sys.getsizeof(c) for c in (self.sentence_ids, self.terms, self.row_of, self._term_numbers, self.doc_ids, self._doc_numbers))
        return arrays + strings + containers

    def scores(self, query_terms: Sequence[str]) -> LexicalScores:
        """Every document's BM25 for the terms (as given, duplicates counted), divided by that
        document's best score; only positive scores are kept, as rank-bm25's users here did."""
        raw = np.zeros(len(self.sentence_ids))
        touched = []
        for term in query_terms:  # in the question's order: the same sums, bit for bit, as rank-bm25
            number = self._term_numbers.get(term)
            if number is None:
                continue
            start, end = self._term_start[number], self._term_start[number + 1]
            rows = self._term_rows[start:end]
            raw[rows] += self._term_weights[start:end]
            touched.append(rows)
        value = np.zeros(len(self.sentence_ids))
        if not touched:
            return LexicalScores(value, np.zeros(0, dtype=np.int32))
        rows = np.unique(np.concatenate(touched))
        rows = rows[raw[rows] > 0]
        if len(rows):
            # A document's best score: its rows are contiguous, so the matched rows of one document are too.
            docs = self.doc_of[rows]
            starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
            best = np.maximum.reduceat(raw[rows], starts)
            value[rows] = raw[rows] / np.repeat(best, np.diff(np.r_[starts, len(rows)]))
        return LexicalScores(value, rows)

    def rows_of_document(self, doc_id: str) -> range:
        number = self._doc_numbers.get(doc_id)
        return range(0) if number is None else range(int(self._doc_start[number]), int(self._doc_start[number + 1]))

    def terms_of(self, row: int) -> frozenset[str]:
        """The distinct terms of one sentence (its stems, words and expansions)."""
        numbers = self._row_terms[self._row_start[row] : self._row_start[row + 1]]
        return frozenset(self.terms[number] for number in numbers.tolist()) - {EMPTY}

    def document_terms(self, doc_id: str) -> frozenset[str]:
        """Every term of one document."""
        number = self._doc_numbers.get(doc_id)
        if number is None:
            return frozenset()
        first, end = self._doc_start[number], self._doc_start[number + 1]
        numbers = np.unique(self._row_terms[self._row_start[first] : self._row_start[end]])
        return frozenset(self.terms[number] for number in numbers.tolist()) - {EMPTY}


def _document_weights(sentences: Sequence[Sequence[str]]) -> list[tuple[list[str], list[float]]]:
    """For each sentence of one document: its distinct terms and each term's BM25 weight,
    computed as rank-bm25's BM25Okapi does (same statistics, same order of operations)."""
    corpus = [list(tokens) or [EMPTY] for tokens in sentences]
    frequencies = []
    containing: dict[str, int] = {}  # term -> sentences holding it, in first-seen order (the idf average sums in this order)
    total_length = 0
    for tokens in corpus:
        total_length += len(tokens)
        counts: dict[str, int] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
        frequencies.append(counts)
        for token in counts:
            containing[token] = containing.get(token, 0) + 1
    size = len(corpus)
    average_length = total_length / size
    idf = {}
    idf_sum = 0.0
    negative = []
    for term, count in containing.items():
        value = math.log(size - count + 0.5) - math.log(count + 0.5)
        idf[term] = value
        idf_sum += value
        if value < 0:
            negative.append(term)
    floor = EPSILON * (idf_sum / len(idf))
    for term in negative:
        idf[term] = floor
    weights = []
    for tokens, counts in zip(corpus, frequencies, strict=True):
        length_norm = K1 * (1 - B + B * len(tokens) / average_length)
        terms = list(counts)
        weights.append((terms, [idf[term] * (counts[term] * (K1 + 1) / (counts[term] + length_norm)) for term in terms]))
    return weights
