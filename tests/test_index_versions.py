"""Index versions: re-ingest is stable, answers never mix versions, a killed ingest harms nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from assistant import Assistant
from ingest import ingest
from tests.conftest import DOC_ID, ROOT, SEED
from tests.support.index_records import records_per_version, sentence_collections

pytestmark = pytest.mark.slow


def _record_counts(settings) -> dict[str, int]:
    from assistant.store import open_chroma_client

    client = open_chroma_client(settings)
    return {c.name: c.count() for c in client.list_collections()}


def _changed_article(tmp_path, seed_text, companies: int):
    """The article at one path (one source, so one document), with the number of companies changed."""
    path = tmp_path / f"{DOC_ID}.txt"
    path.write_text(seed_text.replace("12 perusahaan", f"{companies} perusahaan"), encoding="utf-8")
    return path


def test_reingesting_ten_times_leaves_the_same_entries(fresh_settings):
    ingest([str(SEED)], settings=fresh_settings)
    counts = _record_counts(fresh_settings)
    for _ in range(10):
        report = ingest([str(SEED)], settings=fresh_settings)
        assert not report.switched
    assert _record_counts(fresh_settings) == counts
    assert sum(records_per_version(fresh_settings).values()) == 13


def test_versions_are_switched_and_old_ones_collected(fresh_settings, tmp_path, seed_text, monkeypatch):
    from ingest import pipeline

    ingest([str(_changed_article(tmp_path, seed_text, 12))], settings=fresh_settings)  # the seed as it is, at the path the changes go to
    for companies in (15, 16):
        report = ingest([str(_changed_article(tmp_path, seed_text, companies))], settings=fresh_settings)
        assert report.switched and report.documents[0].written == 2  # only the two changed sentences re-embedded
    assert sorted(records_per_version(fresh_settings).values()) == [13, 13, 13]  # replaced versions wait, hidden, for a compaction
    monkeypatch.setattr(pipeline, "COMPACT_MINIMUM", 0)  # compact as soon as a quarter of the records are hidden
    for companies in (17, 18):
        ingest([str(_changed_article(tmp_path, seed_text, companies))], settings=fresh_settings)
        assert list(records_per_version(fresh_settings).values()) == [13]  # the active version only
    assert len(sentence_collections(fresh_settings)) == 2  # the one a compaction replaced waits one write, for questions running on it
    answer = Assistant.load(fresh_settings).ask("Berapa perusahaan AS yang tertarik pada smart city?")
    assert "18 perusahaan" in answer.citations[0].text


@pytest.mark.parametrize("writer", ["this process", "assistant ingest"])
def test_answers_during_a_switch_come_wholly_from_one_version(fresh_settings, tmp_path, seed_text, writer):
    """Also with the writer in another process on the same embedded index (a bot, and ingest in a
    terminal): there, a reader that kept its loaded vectors, or loaded them halfway through a write,
    answered with sentences missing."""
    ingest([str(_changed_article(tmp_path, seed_text, 12))], settings=fresh_settings)
    bot = Assistant.load(fresh_settings)
    bot.searcher.refresh_seconds = 0.0  # check for a new version before every question
    versions = {
        12: {t for t in (s.text for s in bot.searcher.sentences.values())},
        15: {t.replace("12 perusahaan", "15 perusahaan") for t in (s.text for s in bot.searcher.sentences.values())},
    }
    seen, problems = set(), []
    stop = threading.Event()

    def ask_in_a_loop():
        while not stop.is_set():
            texts = {hit.text for hit in bot.retrieve("Berapa perusahaan AS yang tertarik?", k=13)}
            owner = [n for n, texts_of_version in versions.items() if texts <= texts_of_version]
            if len(texts) != 13 or not owner:
                problems.append(texts)
            seen.update(owner)

    asker = threading.Thread(target=ask_in_a_loop)
    asker.start()
    try:
        env = {**os.environ, "ASSISTANT_DATA_DIR": str(fresh_settings.data_dir), "HF_HUB_OFFLINE": "1"}
        # A command is a new process each time (~2.5 s): two switches show both directions.
        for companies in (15, 12, 15, 12) if writer == "this process" else (15, 12):
            article = str(_changed_article(tmp_path, seed_text, companies))
            if writer == "this process":
                ingest([article], settings=fresh_settings)
            else:
                subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", article], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
            time.sleep(0.2)
    finally:
        stop.set()
        asker.join(timeout=30)
    assert problems == []
    assert seen == {12, 15}


@pytest.mark.parametrize("kill_after", [0.4, 1.0, 1.6, 2.2])
def test_kill_9_during_ingest_leaves_the_previous_version_answering(fresh_settings, tmp_path, seed_text, kill_after):
    ingest([str(_changed_article(tmp_path, seed_text, 12))], settings=fresh_settings)
    changed = _changed_article(tmp_path, seed_text, 15)
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(fresh_settings.data_dir), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(changed)], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    answer = Assistant.load(fresh_settings).ask("Berapa perusahaan AS yang tertarik pada smart city?")
    assert answer.citations and answer.citations[0].text in {seed_text_line for seed_text_line in _both_versions(seed_text)}

    report = ingest([str(changed)], settings=fresh_settings)  # the next ingest completes
    assert report.documents[0].sentences == 13
    answer = Assistant.load(fresh_settings).ask("Berapa perusahaan AS yang tertarik pada smart city?")
    assert "15 perusahaan" in answer.citations[0].text
    assert sum(records_per_version(fresh_settings).values()) <= 26  # what the killed one wrote is gone, or is the one before


def _both_versions(seed_text: str) -> set[str]:
    from ingest.article import parse_article

    texts = set()
    for text in (seed_text, seed_text.replace("12 perusahaan", "15 perusahaan")):
        texts |= {s.text for s in parse_article(text, doc_id=DOC_ID, title="t", source="s").sentences}
    return texts
