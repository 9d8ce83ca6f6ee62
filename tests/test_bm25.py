"""The sparse BM25 index scores exactly as one rank-bm25 BM25Okapi per document did (the reference
the rankings were recorded with), on corpora shaped like the edge cases: one-sentence documents
(every idf negative), terms in more than half the sentences (the epsilon floor), empty sentences,
repeated query terms, terms no document has."""

from __future__ import annotations

import random

import pytest
from rank_bm25 import BM25Okapi

from assistant.bm25 import SparseBM25


def reference(documents: dict[str, list[list[str]]], query: list[str]) -> dict[str, float]:
    """What retrieval computed before: per document, rank-bm25 scores divided by the best, zeros left out."""
    result = {}
    for doc_id, sentences in documents.items():
        scores = BM25Okapi([tokens or ["∅"] for tokens in sentences]).get_scores(query)
        top = float(max(scores))
        if top > 0:
            result |= {f"{doc_id}#{n:02d}": float(score) / top for n, score in enumerate(scores) if score > 0}
    return result


def sparse(documents: dict[str, list[list[str]]], query: list[str]) -> dict[str, float]:
    index = SparseBM25((f"{doc_id}#{n:02d}", doc_id, tokens) for doc_id, sentences in documents.items() for n, tokens in enumerate(sentences))
    scores = index.scores(query)
    return {index.sentence_ids[row]: float(scores.value[row]) for row in scores.rows.tolist()}


def random_corpus(rng: random.Random) -> dict[str, list[list[str]]]:
    vocabulary = [f"w{n}" for n in range(rng.choice([3, 8, 40]))]
    documents = {}
    for doc in range(rng.randint(1, 6)):
        documents[f"doc-{doc}"] = [[rng.choice(vocabulary) for _ in range(rng.choice([0, 1, 3, 9, 20]))] for _ in range(rng.randint(1, 15))]
    return documents


@pytest.mark.parametrize("seed", range(300))
def test_scores_equal_rank_bm25_bit_for_bit(seed):
    rng = random.Random(seed)
    documents = random_corpus(rng)
    query = [rng.choice([f"w{n}" for n in range(45)]) for _ in range(rng.randint(1, 6))]
    query += query[:1]  # a repeated term counts twice, as in rank-bm25
    assert sparse(documents, query) == reference(documents, query)


def test_a_document_where_every_sentence_holds_the_term_gives_nothing():
    documents = {"a": [["gempa", "aceh"], ["gempa"]], "b": [["gempa", "palu"], ["banjir"], ["longsor"]]}
    assert sparse(documents, ["gempa"]) == reference(documents, ["gempa"])
    assert not any(sentence_id.startswith("a#") for sentence_id in sparse(documents, ["gempa"]))


def test_terms_of_a_sentence_and_of_a_document():
    index = SparseBM25([("a#00", "a", ["gempa", "aceh", "gempa"]), ("a#01", "a", []), ("b#00", "b", ["banjir"])])
    assert index.terms_of(index.row_of["a#00"]) == {"gempa", "aceh"}
    assert index.terms_of(index.row_of["a#01"]) == frozenset()
    assert index.document_terms("a") == {"gempa", "aceh"}
    assert index.document_terms("missing") == frozenset()
    assert index.nbytes > 0


def _rows(documents: dict[str, list[list[str]]]) -> list[tuple[str, str, list[str]]]:
    return [(f"{doc_id}#{n:02d}", doc_id, tokens) for doc_id, sentences in documents.items() for n, tokens in enumerate(sentences)]


@pytest.mark.parametrize("seed", range(150))
def test_an_index_patched_with_changed_documents_scores_as_one_built_from_scratch(seed):
    """What a running bot does after a switch: drop the removed and replaced documents, add the new versions."""
    rng = random.Random(seed)
    before = random_corpus(rng)
    removed = [doc_id for doc_id in before if rng.random() < 0.3]
    changed = {doc_id: random_corpus(rng)["doc-0"] for doc_id in [*before, "new-a", "new-b"] if doc_id not in removed and rng.random() < 0.4}
    after = {**{doc_id: sentences for doc_id, sentences in before.items() if doc_id not in removed}, **changed}

    patched = SparseBM25(_rows(before)).replaced(removed, _rows(changed))
    built = SparseBM25(_rows(after))
    assert sorted(patched.sentence_ids) == sorted(built.sentence_ids)
    vocabulary = {token for sentences in [*before.values(), *changed.values()] for tokens in sentences for token in tokens}
    for query in ([rng.choice(sorted(vocabulary | {"absent"}))] for _ in range(5)):
        got, expected = patched.scores(query), built.scores(query)
        assert {patched.sentence_ids[row]: got.value[row] for row in range(len(patched))} == {
            built.sentence_ids[row]: expected.value[row] for row in range(len(built))
        }
    for doc_id in after:
        assert patched.document_terms(doc_id) == built.document_terms(doc_id)
        assert [patched.sentence_ids[row] for row in patched.rows_of_document(doc_id)] == [built.sentence_ids[row] for row in built.rows_of_document(doc_id)]
