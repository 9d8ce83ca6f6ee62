"""Retrieval ranks exactly as it did before the per-question cost stopped growing with the archive.

Two checks:

- `tests/data/rankings.json` holds, for every eval case, the top-10 sentence ids retrieval gave
  before the change, each article in its own index as `assistant eval` runs them (compared in
  `tests/test_eval_gates.py`, which already runs the eval).
- Here, all the eval articles in one index: the searcher (a bounded candidate set, sparse BM25,
  sentences read on demand) against `reference_scores`, the scoring it replaced (every sentence in
  memory, rank-bm25 per document, the answer-type prior on every BM25 match, follow-ups scored
  with every sentence's cosine) on the same Chroma index. Comparing on the same index matters:
  Chroma's HNSW graph is built differently run to run, so a recorded multi-article ranking can
  differ by a near neighbour the graph search missed, whatever the searcher does.

A deliberate change to retrieval re-records the file: `.venv/bin/python -m tests.test_rankings --record`
(about two minutes), and the diff shows which cases moved.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import ROOT

RANKINGS = ROOT / "tests" / "data" / "rankings.json"
TOP = 10
CASE_STRIDE = 4


def recorded() -> dict:
    return json.loads(RANKINGS.read_text(encoding="utf-8"))


def reference_scores(bot, query, k: int) -> list:
    """The k best sentences as retrieval scored them before the candidate bound."""
    from rank_bm25 import BM25Okapi

    from assistant.query import TYPED_KINDS
    from assistant.retrieval import ANSWER_TYPE_WEIGHT, ScoredSentence, _average, _rank_key, coverage
    from assistant.spans import answer_spans

    searcher = bot.searcher
    snapshot = searcher.snapshot
    sentences = {row.sentence_id: row for row in bot.index.sentences(snapshot)}
    by_doc: dict[str, list] = {}
    for row in sentences.values():
        by_doc.setdefault(row.doc_id, []).append(row)

    def bm25(terms) -> dict[str, float]:
        found = {}
        for rows in by_doc.values():
            scores = BM25Okapi([row.stems.split() or ["∅"] for row in rows]).get_scores(list(terms))
            top = float(max(scores))
            if top > 0:
                found |= {row.sentence_id: float(score) / top for row, score in zip(rows, scores, strict=True) if score > 0}
        return found

    def score(text, terms, k):
        dense = dict(bot.index.dense_search(snapshot, searcher._embed_query(text), k=min(len(sentences), max(50, k))))
        lexical = bm25(terms) if searcher.mode == "hybrid" else {}
        typed = any(kind in TYPED_KINDS for kind in query.kinds)
        scored = []
        for sentence_id in set(dense) | set(lexical):
            sentence = sentences[sentence_id]
            answer_type = 1.0 if typed and answer_spans(query, sentence.text, searcher.lexicon) else 0.0
            scored.append(
                ScoredSentence(
                    sentence=sentence,
                    score=dense.get(sentence_id, 0.0) + searcher.bm25_weight * lexical.get(sentence_id, 0.0) + ANSWER_TYPE_WEIGHT * answer_type,
                    dense=dense.get(sentence_id, 0.0),
                    lexical=lexical.get(sentence_id, 0.0),
                    answer_type=answer_type,
                    coverage=coverage(query, frozenset(sentence.stems.split())),
                )
            )
        return sorted(scored, key=_rank_key)[:k]

    if query.retrieval_text == query.text:
        return score(query.text, query.search_terms, k)
    pool = len(sentences)
    alone = {item.sentence.sentence_id: item for item in score(query.text, query.search_terms, pool)}
    contextual = {item.sentence.sentence_id: item for item in score(query.retrieval_text, query.context_search_terms, pool)}
    return sorted((_average(alone.get(i), contextual.get(i)) for i in set(alone) | set(contextual)), key=_rank_key)[:k]


@pytest.fixture(scope="module")
def one_index(tmp_path_factory):
    from assistant import Assistant
    from assistant.settings import Settings
    from evals.dataset import load_suite
    from ingest import ingest

    articles = load_suite()
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("one-index"), chroma_url=None, llm=None, collection="rankings")
    ingest([str(article.source) for article in articles], settings=settings)
    # Every fourth case (about 150, all articles, kinds and follow-ups): the reference scoring costs
    # a rank-bm25 pass per document per question, and every case is already checked each article
    # alone against the recording (tests/test_eval_gates.py).
    cases = [case for article in articles for case in article.cases]
    return Assistant.load(settings), cases[::CASE_STRIDE]


def test_every_case_ranks_as_scoring_every_sentence_did(one_index):
    from assistant.query import Query

    bot, cases = one_index
    assert len(bot.searcher.sentences) > 250  # enough that 50 dense candidates are a fraction of it
    moved = []
    for case in cases:
        query = Query.parse(case.question, case.history, bot.searcher.lexicon)
        after = [(item.sentence.sentence_id, item.score) for item in bot.searcher.score(query, TOP)]
        before = [(item.sentence.sentence_id, item.score) for item in reference_scores(bot, query, TOP)]
        same_scores = all(abs(a[1] - b[1]) <= 2e-6 for a, b in zip(after, before, strict=False))
        if [i for i, _ in after] != [i for i, _ in before] or not same_scores:
            moved.append((case.id, before, after))
    assert not moved, f"{len(moved)} of {len(cases)} cases moved, first: {moved[:2]}"


def _record() -> None:
    from evals.dataset import load_suite
    from evals.runner import DEFAULT_CONFIG, run

    report = run(DEFAULT_CONFIG, load_suite())
    RANKINGS.parent.mkdir(parents=True, exist_ok=True)
    RANKINGS.write_text(_one_case_a_line({"separate": {result.case.id: result.ranking for result in report.results}}), encoding="utf-8")
    print(f"wrote {RANKINGS}: {len(report.results)} cases")


def _one_case_a_line(data: dict) -> str:
    """JSON with one line per case, so a re-recording's diff shows which cases moved."""
    sections = []
    for name, cases in sorted(data.items()):
        lines = ",\n".join(f"  {json.dumps(case_id, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}" for case_id, value in sorted(cases.items()))
        sections.append(f"{json.dumps(name)}: {{\n{lines}\n }}")
    return "{\n " + ",\n ".join(sections) + "\n}\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit("usage: python -m tests.test_rankings --record")
    _record()
