"""Retrieval's rankings stay what they were when the per-question cost stopped growing with the archive.

`tests/data/rankings.json` holds, for every eval case, the top-10 sentence ids (and scores) that
retrieval gave before the change (rank-bm25 over every sentence, the answer-type prior on every
BM25 match). Two situations are recorded:

- `separate`: each article in its own index, as `assistant eval` runs them (checked in
  `tests/test_eval_gates.py`, which already runs the eval);
- `one_index`: all eleven articles in one index, so BM25 statistics stay per article, dense
  candidates come from several articles, and follow-ups and summaries (which score beyond the
  first few dense matches) take the bounded path. Also the sentences `ask` cites.

A deliberate change to retrieval or to the answerability model re-records the file:
`.venv/bin/python -m tests.test_rankings --record` (about two minutes), and the diff shows what moved.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

RANKINGS = ROOT / "tests" / "data" / "rankings.json"
TOP = 10


def one_index_results(data_dir: Path) -> dict[str, dict]:
    """Every eval case asked of one index holding all eleven articles."""
    from assistant import Assistant
    from assistant.answering.extractive import ExtractiveAnswerer
    from assistant.query import Query
    from assistant.settings import Settings
    from evals.dataset import load_suite
    from ingest import ingest

    articles = load_suite()
    settings = Settings(_env_file=None, data_dir=data_dir, chroma_url=None, llm=None, collection="rankings")
    ingest([str(article.source) for article in articles], settings=settings)
    bot = Assistant.load(settings)
    answerer = ExtractiveAnswerer(bot.searcher)
    results = {}
    for article in articles:
        for case in article.cases:
            query = Query.parse(case.question, case.history, bot.searcher.lexicon)
            answer = answerer.answer(query)
            results[case.id] = {
                "ranking": [[hit.sentence_id, round(hit.score, 6)] for hit in bot.retrieve(query, k=TOP)],
                "cited": [citation.sentence_id for citation in answer.citations],
                "abstained": answer.abstained,
            }
    return results


def recorded() -> dict:
    return json.loads(RANKINGS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def one_index(tmp_path_factory):
    return one_index_results(tmp_path_factory.mktemp("one-index"))


def test_one_index_rankings_and_citations_are_unchanged(one_index):
    expected = recorded()["one_index"]
    assert set(one_index) == set(expected)
    moved = []
    for case_id, before in expected.items():
        after = one_index[case_id]
        ids_before = [sentence_id for sentence_id, _ in before["ranking"]]
        ids_after = [sentence_id for sentence_id, _ in after["ranking"]]
        scores_close = all(abs(a[1] - b[1]) <= 2e-6 for a, b in zip(before["ranking"], after["ranking"]))
        if ids_before != ids_after or not scores_close or before["cited"] != after["cited"] or before["abstained"] != after["abstained"]:
            moved.append((case_id, before, after))
    assert not moved, f"{len(moved)} cases moved, first: {moved[:3]}"


def _record() -> None:
    import tempfile

    from evals.dataset import load_suite
    from evals.runner import DEFAULT_CONFIG, run

    report = run(DEFAULT_CONFIG, load_suite())
    with tempfile.TemporaryDirectory(prefix="rankings-") as data_dir:
        one_index = one_index_results(Path(data_dir))
    data = {
        "separate": {result.case.id: result.ranking for result in report.results},
        "one_index": one_index,
    }
    RANKINGS.parent.mkdir(parents=True, exist_ok=True)
    RANKINGS.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {RANKINGS}: {len(data['separate'])} + {len(data['one_index'])} cases")


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit("usage: python -m tests.test_rankings --record")
    _record()
