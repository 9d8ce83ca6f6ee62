"""The command line's help and errors, as a user reads them (no index needed)."""

from __future__ import annotations

import pytest

from assistant.cli import main


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal width


def test_every_argument_has_help(capsys):
    assert "the question, in Indonesian or English" in _help(capsys, "ask")
    slack = _help(capsys, "slack")
    assert "port for --http" in slack and "address for --http to listen on" in slack
    assert "DOC_ID" in _help(capsys, "remove") and "--yes" in _help(capsys, "reset")


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"assistant {version('article-assistant')}"


def test_slack_help_names_the_variables_it_needs(capsys):
    text = _help(capsys, "slack")
    assert all(name in text for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"))


def test_feedback_alone_prints_its_help(capsys):
    assert main(["feedback"]) == 2
    out = capsys.readouterr()
    assert "export" in out.out and "required" not in out.err


def test_an_error_stays_on_one_line_in_a_narrow_terminal(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "a-rather-long-folder-name-for-the-index"))
    assert main(["documents"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "assistant ingest" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("columns", ["80", "200"])
def test_ids_and_titles_are_never_cut_or_wrapped_mid_word(capsys, tmp_path, monkeypatch, columns):
    """`ingest` and `documents` at 80 columns: each document's id, title and source whole on one
    line (a row per block when the table does not fit), never "antara-kom / digi-as-ke" or "…"."""
    from tests.conftest import ROOT, SEED

    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    article = ROOT / "evals" / "articles" / "en-central-bank.md"
    assert main(["ingest", str(SEED), str(article)]) == 0
    assert main(["documents"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    lines = out.splitlines()
    title = "Philippine central bank cuts rates by 25 basis points, signals pause"
    for text in ("antara-komdigi-as-kerja-sama-digital", "en-central-bank", title, str(article)):
        assert any(text in line for line in lines), text
