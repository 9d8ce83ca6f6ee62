"""CI gate on the eval suite: fifteen articles (the seed and fourteen written for the project, questions
written blind), each in its own index, decided leave-one-article-out by the answerability model.

The floors are what the current release reaches on held-out articles, rounded down (docs/quality.md);
the issue's targets (hit@1 ≥ 0.85, answered ≥ 0.90, gold cited ≥ 0.85, abstention R ≥ 0.85 at
P ≥ 0.90 per language pair) are not all reached yet, and the closing note says by how much. A change
that lowers any of these numbers fails here.
"""

import math

import pytest

from evals.dataset import load_suite
from evals.runner import DEFAULT_CONFIG, PAIRS, markdown, run
from scripts.quality_tables import QUALITY_DOC, TOLERANCE_NOTE, generated_region, table_differences

FLOORS = {
    "all": {"hit@1": 0.78, "answered": 0.86, "gold cited": 0.72, "abstain R": 0.38},
    "id→id": {"hit@1": 0.83},
    "en→id": {"hit@1": 0.79},
    "id→en": {"hit@1": 0.68},
    "en→en": {"hit@1": 0.72},
}


@pytest.fixture(scope="module")
def report():
    return run(DEFAULT_CONFIG, load_suite())


def test_suite_is_big_enough_bilingual_and_blind(report):
    articles = load_suite()
    dev = articles[1:]
    assert len(dev) >= 10
    assert sum(a.language == "id" for a in dev) >= 5 and sum(a.language == "en" for a in dev) >= 5
    for article in dev:
        answerable = [c for c in article.cases if c.answerable]
        unanswerable = [c for c in article.cases if not c.answerable]
        assert len(answerable) >= 15 and len(unanswerable) >= 6, article.doc_id
        assert {c.lang for c in answerable} == {"id", "en"}, article.doc_id
    groups = report.groups()
    for pair in PAIRS:
        assert len(groups[pair]) >= 40, pair


def test_quality_on_held_out_articles_does_not_drop(report):
    for group, floors in FLOORS.items():
        retrieval = report.retrieval(group)
        answers = report.answers(group, held_out=True)
        for metric, floor in floors.items():
            value = retrieval[metric] if metric in retrieval else answers[metric]
            assert not math.isnan(value) and value >= floor, (group, metric, value)


def test_abstentions_are_mostly_right(report):
    answers = report.answers("all", held_out=True)
    assert answers["abstain P"] >= 0.5, answers


def test_quality_doc_tables_are_what_the_eval_prints(report):
    # docs/quality.md's numbers come from `assistant eval --markdown`; a change that moves them must
    # update them. They compare within the tolerance written next to the table (TOLERANCE_NOTE).
    documented = generated_region(QUALITY_DOC.read_text(encoding="utf-8")).strip()
    printed = markdown(report).strip()
    differences = table_differences(documented, printed)
    assert not differences, (
        "docs/quality.md's tables differ from what `assistant eval --markdown` prints by more than "
        f"{TOLERANCE_NOTE}\nRegenerate them with `.venv/bin/python scripts/quality_tables.py`.\n"
        + "\n".join(differences[:20])
        + f"\n\ndocumented:\n{documented}\n\nprinted:\n{printed}"
    )


def test_refusals_of_near_misses_offer_a_related_sentence_and_off_topic_ones_never(report):
    refusals = report.refusals(held_out=True)
    assert refusals["near miss"]["with related"] >= 0.75, refusals
    assert refusals["off-topic"]["with related"] == 0.0, refusals


def test_rankings_are_the_recorded_ones(report):
    """Retrieval's top 10 for every case is what was recorded, up to what differs between CPUs and
    thread counts (tests/test_rankings.py says how the file is recorded and the tolerance measured)."""
    from tests.test_rankings import ranking_changes, recorded

    expected = recorded()["separate"]
    assert {result.case.id for result in report.results} == set(expected)
    moved = [
        (result.case.id, changes)
        for result in report.results
        if (changes := ranking_changes(expected[result.case.id], result.ranking, result.scores, result.case.gold))
    ]
    assert not moved, f"{len(moved)} rankings moved, first: {moved[:3]}"


def test_the_html_report_holds_the_tables_a_chart_and_every_miss(report, tmp_path):
    """`assistant eval --report run.html`: one file a reviewer can open, self-contained."""
    import html

    from evals.report_html import write_report
    from evals.runner import missed

    page = write_report([report], tmp_path / "run.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<svg" in page and page.count("<rect") == len(["all", "id→id", "en→id", "id→en", "en→en"]) * 2
    for group in report.groups():
        assert f"<td>{html.escape(group)}</td>" in page
    misses = [r for r in report.results if missed(r)]
    assert page.count("<div class=miss>") == len(misses) > 0
    assert html.escape(misses[0].case.question) in page
