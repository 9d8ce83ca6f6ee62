"""The real-data eval tier (`assistant eval --realqa`): a small slice of each dataset's validation
questions through `Assistant.ask`, one passage per index. The full tables come from
`assistant eval --realqa --markdown` (docs/quality.md); this slice checks the tier works end to end
and that the reader stays clearly above refusing everything on questions it was not trained on."""

from __future__ import annotations

import pytest

from evals.realqa import realqa_dir

SLICE = 12
"""Questions per dataset (whole passages, so a few more): about a minute for the four datasets."""


@pytest.fixture(scope="module")
def results():
    if not (realqa_dir() / "id_idk_mrc_valid.jsonl").is_file():
        pytest.skip(f"{realqa_dir()} is not on this machine: the real-data tier needs ../shared/realqa/ (or ASSISTANT_REALQA_DIR)")
    from evals import realqa_eval

    return realqa_eval.run(limit=SLICE)


def test_every_dataset_is_asked_of_every_answerer_side_by_side(results):
    from evals import realqa_eval

    assert {r.dataset for r in results} == {"idk_mrc", "facqa", "squad2", "tydiqa"}
    assert {r.answerer for r in results} == {"rules", "reader", "always refuse"}
    table = realqa_eval.markdown(results)
    assert "| IDK-MRC valid (id) | rules |" in table and "| language: en | reader |" in table


def test_answers_cite_what_they_answer_from_and_refusing_everything_scores_the_unanswerable_share(results):
    from evals import realqa_eval

    refusals = [r for r in results if r.answerer == "always refuse"]
    scores = realqa_eval.score(refusals)
    assert scores["acc"] == sum(r.impossible for r in refusals) / len(refusals) and scores["answered"] == 0.0
    for name in ("rules", "reader"):
        mine = realqa_eval.score([r for r in results if r.answerer == name])
        assert mine["hit@1"] >= 0.6 and mine["gold cited"] >= 0.3, (name, mine)
    read = [r for r in results if r.answerer == "reader" and not r.abstained]
    # The reader's brief is the span, in the cited sentence's own words.
    assert read and all(r.cited and r.brief and r.brief in r.cited[0] for r in read)


def test_without_the_data_the_tier_says_it_skipped(monkeypatch, tmp_path, capsys):
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_REALQA_DIR", str(tmp_path / "nowhere"))
    assert main(["eval", "--realqa"]) == 0
    assert "skipped the real-data tier" in capsys.readouterr().out
