"""Index lifecycle on real Chroma with the real embedder and article: list, remove, reset, document
ids unique per source, read-only commands that create nothing, data_dir as str or Path."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant, IndexNotFoundError, SourceNotFoundError, UnknownDocumentError
from assistant.store import SentenceIndex, open_chroma_client
from ingest import documents, ingest, remove, reset
from tests.conftest import DOC_ID, ROOT, SEED
from tests.support.bot_process import BOT_TOKEN, SIGNING_SECRET
from tests.support.index_records import records_per_document, sentence_collections, stored_texts, write_article

AMBASSADOR = "Siapa Duta Besar AS untuk Indonesia?"


def _cabinet(folder: Path) -> Path:
    return write_article(folder / "c.txt", "Presiden memimpin rapat kabinet di Istana Merdeka. Rapat membahas anggaran pendidikan 2025.\n")


def _expo(folder: Path) -> Path:
    return write_article(folder / "c.txt", "Gubernur membuka pameran teknologi di Bandung. Pameran itu berlangsung selama tiga hari.\n")


def _collections(settings) -> dict[str, int]:
    client = open_chroma_client(settings)
    return {c.name: c.count() for c in client.list_collections()}


def _ids(settings) -> list[str]:
    return [info.doc_id for info in documents(settings=settings)]


def test_documents_lists_each_article_and_remove_takes_one_out(fresh_settings, tmp_path):
    ingest([str(SEED), str(_cabinet(tmp_path / "folder"))], settings=fresh_settings)
    listed = {info.doc_id: info for info in documents(settings=fresh_settings)}
    assert sorted(listed) == sorted(["c", DOC_ID])
    assert listed[DOC_ID].sentences == 13 and listed["c"].sentences == 2
    assert listed["c"].source.endswith("folder/c.txt") and listed["c"].ingested_at.startswith("20")
    assert listed["c"].version != listed[DOC_ID].version and len(listed["c"].version) == 12  # each document has its own
    assert records_per_document(fresh_settings) == {DOC_ID: 13, "c": 2}

    report = remove(["c"], settings=fresh_settings)
    assert [info.doc_id for info in report.removed] == ["c"] and report.remaining == 1
    assert _ids(fresh_settings) == [DOC_ID]
    assert records_per_document(fresh_settings) == {DOC_ID: 13}  # the removed sentences are gone from Chroma, not only hidden
    bot = Assistant.load(fresh_settings)
    assert bot.ask(AMBASSADOR).citations[0].sentence_id == f"{DOC_ID}#12"
    assert "Presiden" not in " ".join(s.text for s in bot.searcher.sentences.values())


def test_removing_an_unknown_id_says_so_and_changes_nothing(fresh_settings):
    ingest([str(SEED)], settings=fresh_settings)
    before = (documents(settings=fresh_settings), _collections(fresh_settings))
    with pytest.raises(UnknownDocumentError, match="'nope'.*nothing was removed.*" + DOC_ID):
        remove([DOC_ID, "nope"], settings=fresh_settings)
    assert (documents(settings=fresh_settings), _collections(fresh_settings)) == before


def test_a_running_assistant_moves_off_a_removed_document(fresh_settings, tmp_path):
    ingest([str(SEED), str(_cabinet(tmp_path))], settings=fresh_settings)
    bot = Assistant.load(fresh_settings)
    bot.searcher.refresh_seconds = 0.0
    assert bot.retrieve("Siapa yang memimpin rapat kabinet?", k=1)[0].doc_id == "c"
    remove(["c"], settings=fresh_settings)
    assert {hit.doc_id for hit in bot.retrieve("Siapa yang memimpin rapat kabinet?", k=5)} == {DOC_ID}
    assert set(bot.documents) == {DOC_ID}


def test_the_same_name_from_another_folder_gets_its_own_id(fresh_settings, tmp_path):
    first, second = _cabinet(tmp_path / "folder"), _expo(tmp_path / "other")
    ingest([str(SEED), str(first)], settings=fresh_settings)
    report = ingest([str(second)], settings=fresh_settings)
    suffix = hashlib.sha256(str(second.resolve()).encode()).hexdigest()[:6]
    assert report.documents[0].doc_id == f"c-{suffix}"
    assert _ids(fresh_settings) == sorted([DOC_ID, "c", f"c-{suffix}"])  # nothing replaced

    again = ingest([str(second)], settings=fresh_settings)  # the same source keeps its id
    assert again.documents[0].doc_id == f"c-{suffix}" and not again.switched
    first.write_text("Presiden memimpin rapat kabinet di Istana Bogor. Rapat membahas anggaran kesehatan 2025.\n", encoding="utf-8")
    changed = ingest([str(first)], settings=fresh_settings)  # an edited source replaces itself
    assert changed.documents[0].doc_id == "c" and changed.documents[0].written == 2
    assert _ids(fresh_settings) == sorted([DOC_ID, "c", f"c-{suffix}"])
    hit = Assistant.load(fresh_settings).retrieve("Di mana pameran teknologi dibuka?", k=1)[0]
    assert hit.sentence_id == f"c-{suffix}#00"


def test_two_colliding_names_in_one_ingest_both_arrive(fresh_settings, tmp_path):
    report = ingest([str(_cabinet(tmp_path / "a")), str(_expo(tmp_path / "b"))], settings=fresh_settings)
    assert [doc.doc_id for doc in report.documents][0] == "c"
    assert len({doc.doc_id for doc in report.documents}) == 2 and len(_ids(fresh_settings)) == 2


def test_reset_empties_the_index_and_ingest_fills_it_again(fresh_settings):
    ingest([str(SEED)], settings=fresh_settings)
    report = reset(settings=fresh_settings)
    assert [info.doc_id for info in report.removed] == [DOC_ID]
    assert documents(settings=fresh_settings) == ()
    assert sentence_collections(fresh_settings) == []  # every sentence deleted
    with pytest.raises(IndexNotFoundError, match="assistant ingest"):
        Assistant.load(fresh_settings)
    ingest([str(SEED)], settings=fresh_settings)
    assert Assistant.load(fresh_settings).ask(AMBASSADOR).citations[0].sentence_id == f"{DOC_ID}#12"


class _DiesAt(SentenceIndex):
    """A remove that dies (as kill -9 would) just before one of its steps."""

    def __init__(self, settings, step: str) -> None:
        super().__init__(settings, embedder=None)
        self.step = step

    def __getattribute__(self, name):
        if name == object.__getattribute__(self, "step"):
            raise SystemExit(f"killed before {name}")
        return object.__getattribute__(self, name)


@pytest.mark.parametrize("step", ["switch", "compact"])
def test_a_remove_killed_at_any_step_leaves_one_whole_state(fresh_settings, tmp_path, step):
    ingest([str(SEED), str(_cabinet(tmp_path))], settings=fresh_settings)
    with pytest.raises(SystemExit):
        remove(["c"], settings=fresh_settings, index=_DiesAt(fresh_settings, step))
    bot = Assistant.load(fresh_settings)
    held = {s.doc_id for s in bot.searcher.sentences.values()}
    assert held == ({DOC_ID} if step == "compact" else {DOC_ID, "c"})
    assert bot.ask(AMBASSADOR).citations[0].sentence_id == f"{DOC_ID}#12"

    if "c" in held:  # the remove did not happen; doing it again completes
        remove(["c"], settings=fresh_settings)
    assert _ids(fresh_settings) == [DOC_ID]
    ingest([str(_expo(tmp_path / "expo"))], settings=fresh_settings)  # the next change deletes what the killed remove left
    assert records_per_document(fresh_settings) == {DOC_ID: 13, "c": 2} and _ids(fresh_settings) == sorted(["c", DOC_ID])
    assert not [text for text in stored_texts(fresh_settings) if "Presiden" in text]


def test_data_dir_may_be_a_str_or_a_path(seed_settings):
    for data_dir in (str(seed_settings.data_dir), Path(seed_settings.data_dir)):
        bot = Assistant.load(seed_settings, data_dir=data_dir)
        assert isinstance(bot.settings.data_dir, Path)
        assert bot.retrieve(AMBASSADOR, k=1)[0].sentence_id == f"{DOC_ID}#12"


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    # PYTHONPATH passes on so the subprocess runs the same code as the test (a worktree, a checkout).
    environment = {"HF_HUB_OFFLINE": "1", "PATH": "", "COLUMNS": "60", "PYTHONPATH": os.environ.get("PYTHONPATH", ""), **(env or {})}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, env=environment,
                          cwd=cwd, timeout=120, input=stdin)


def test_reading_commands_in_a_folder_without_an_index_say_how_to_build_one_and_create_nothing(tmp_path):
    slack_tokens = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    for command in (["ask", AMBASSADOR], ["chat"], ["documents"], ["remove", DOC_ID], ["slack", "--http", "--port", "0"]):
        out = _cli(*command, cwd=tmp_path, stdin="", env=slack_tokens)
        assert out.returncode == 1, command
        error = out.stderr.strip()
        assert "Traceback" not in error and len(error.splitlines()) == 1, error  # one line even at 60 columns
        assert "no index in data/chroma" in error and "assistant ingest" in error, error
    assert list(tmp_path.iterdir()) == []


def test_documents_remove_and_reset_from_the_command_line(fresh_settings, tmp_path):
    ingest([str(SEED), str(_cabinet(tmp_path / "folder"))], settings=fresh_settings)
    env = {"ASSISTANT_DATA_DIR": str(fresh_settings.data_dir)}

    listed = json.loads(_cli("documents", "--json", cwd=ROOT, env=env).stdout)
    assert [doc["doc_id"] for doc in listed["documents"]] == sorted(["c", DOC_ID])
    assert all(len(doc["version"]) == 12 for doc in listed["documents"])
    assert DOC_ID in _cli("documents", cwd=ROOT, env={**env, "COLUMNS": "200"}).stdout

    unknown = _cli("remove", "nope", cwd=ROOT, env=env)
    assert unknown.returncode == 1 and "'nope'" in unknown.stderr and "nothing was removed" in unknown.stderr
    removed = _cli("remove", "c", cwd=ROOT, env=env)
    assert removed.returncode == 0 and "Removed c (2 sentences)" in removed.stdout
    assert _ids(fresh_settings) == [DOC_ID]

    refused = _cli("reset", cwd=ROOT, env=env, stdin="")  # no terminal and no --yes
    assert refused.returncode == 1 and "--yes" in refused.stderr and _ids(fresh_settings) == [DOC_ID]
    emptied = _cli("reset", "--yes", cwd=ROOT, env=env)
    assert emptied.returncode == 0 and _ids(fresh_settings) == []
    assert "empty" in _cli("documents", cwd=ROOT, env=env).stdout


def test_from_path_leaves_no_temporary_index_behind(tmp_path, monkeypatch):
    import gc
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(SourceNotFoundError):
        Assistant.from_path(str(SEED), str(tmp_path / "missing.txt"))
    assert list(tmp_path.glob("assistant-*")) == []

    bot = Assistant.from_path(str(SEED))
    assert [p.parent for p in tmp_path.glob("assistant-*")] == [tmp_path]
    assert bot.ask(AMBASSADOR).citations[0].sentence_id == f"{DOC_ID}#12"
    del bot
    gc.collect()
    assert list(tmp_path.glob("assistant-*")) == []


def test_an_eval_that_fails_leaves_no_temporary_index_behind(tmp_path, monkeypatch):
    """(A whole eval run takes a minute and a half; `assistant eval` with TMPDIR set to an empty folder
    left it empty when this was written.)"""
    import tempfile

    from evals.dataset import load_suite
    from evals.runner import run

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seed = load_suite()[0]
    broken = seed.__class__(seed.doc_id, tmp_path / "missing.txt", seed.language, seed.cases)
    with pytest.raises(SourceNotFoundError, match="missing.txt"):
        run(articles=[broken, seed])
    assert list(tmp_path.iterdir()) == []


def test_an_updated_article_at_a_new_path_replaces_the_old_one_only_when_asked(fresh_settings, tmp_path, seed_text):
    ingest([str(SEED)], settings=fresh_settings)
    updated = write_article(tmp_path / "download" / f"{DOC_ID}.txt", seed_text.replace("12 perusahaan", "15 perusahaan"))
    with pytest.raises(UnknownDocumentError, match="'nope'.*nothing was changed"):
        ingest([str(updated)], settings=fresh_settings, replace="nope")
    assert _ids(fresh_settings) == [DOC_ID]

    report = ingest([str(updated)], settings=fresh_settings, replace=DOC_ID)
    assert report.documents[0].doc_id == DOC_ID and report.documents[0].written == 2  # one switch, two sentences re-embedded
    [info] = documents(settings=fresh_settings)
    assert info.doc_id == DOC_ID and info.source == str(updated)
    answer = Assistant.load(fresh_settings).ask("Berapa perusahaan AS yang tertarik pada smart city?")
    assert "15 perusahaan" in answer.citations[0].text
    assert ingest([str(updated)], settings=fresh_settings).documents[0].doc_id == DOC_ID  # it owns the id now


def test_reset_at_a_terminal_asks_first(fresh_settings):
    import os
    import pty

    ingest([str(SEED)], settings=fresh_settings)
    env = {"HF_HUB_OFFLINE": "1", "PATH": "", "ASSISTANT_DATA_DIR": str(fresh_settings.data_dir)}
    for reply, code, left in (("n", 1, [DOC_ID]), ("y", 0, [])):
        terminal, keyboard = pty.openpty()  # stdin is a terminal, as when a person runs it
        try:
            os.write(terminal, f"{reply}\n".encode())
            out = subprocess.run([sys.executable, "-m", "assistant.cli", "reset"], stdin=keyboard, capture_output=True, text=True,
                                 env=env, cwd=ROOT, timeout=120)
        finally:
            os.close(terminal)
            os.close(keyboard)
        assert out.returncode == code, out.stderr
        assert f"Delete all 1 document from {fresh_settings.data_dir / 'chroma'}? [y/N]" in " ".join(out.stdout.split())
        assert _ids(fresh_settings) == left


def _files_holding(folder: Path, text: str) -> list[str]:
    """Every file under `folder` whose bytes contain `text` (free pages and stale folders included),
    except the live vector index's `data_level0.bin`: hnswlib writes its whole preallocated buffer,
    and the unused slots hold whatever the writing process's heap held before (seen once in a long
    test process: a sentence that process had ingested earlier). That is Chroma's file, not our data."""
    needle = text.encode("utf-8")
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and path.name != "data_level0.bin" and needle in path.read_bytes()
    )


def test_removed_text_is_gone_from_the_files_and_no_folders_pile_up(fresh_settings, tmp_path):
    """After `remove`, no file of the index holds a removed sentence (SQLite's free pages included);
    after `reset`, neither a sentence nor a title; add/remove cycles leave no stale vector folders."""
    expo = _expo(tmp_path)
    expo_sentence = "Gubernur membuka pameran teknologi di Bandung."
    for _ in range(4):
        ingest([str(SEED), str(expo)], settings=fresh_settings)
        assert _files_holding(fresh_settings.chroma_dir, expo_sentence)
        remove(["c"], settings=fresh_settings)
    chroma = fresh_settings.chroma_dir
    assert _files_holding(chroma, expo_sentence) == []
    folders = [path.name for path in chroma.iterdir() if path.is_dir()]
    assert len(folders) <= 3, folders  # the catalog's and the live sentences' (4 cycles used to leave 6 or more)
    assert Assistant.load(fresh_settings).ask(AMBASSADOR).citations[0].sentence_id == f"{DOC_ID}#12"

    seed_sentence = "Sementara itu, Dubes AS untuk Indonesia Kamala Shirin Lakhdhir"
    assert _files_holding(chroma, seed_sentence)
    reset(settings=fresh_settings)
    assert _files_holding(chroma, seed_sentence) == [] and _files_holding(chroma, "Kamala") == []
