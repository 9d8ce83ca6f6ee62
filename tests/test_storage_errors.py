"""A full disk and a read-only index folder: one-line errors naming the folder and the fix, nothing
changed, and the index working again by itself once space returns.

The conditions are real: a small tmpfs mounted for the test (filled with a file, remounted
read-only), with the real embedder and Chroma. Mounting needs root with CAP_SYS_ADMIN; where it is
not allowed the filesystem tests skip and say so (the classification test always runs).
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from assistant.store import storage_problem
from tests.conftest import ROOT, SEED

ARTICLE = ROOT / "evals" / "articles" / "en-central-bank.md"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (RuntimeError("error returned from database: (code: 13) database or disk is full"), "full disk"),
        (RuntimeError("Error in compaction: Failed to apply logs to the metadata segment"), "full disk"),
        (OSError(errno.ENOSPC, "No space left on device"), "full disk"),
        (RuntimeError("error returned from database: (code: 8) attempt to write a readonly database"), "read-only"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
        (RuntimeError("Collection [abc] does not exist"), None),
    ],
)
def test_storage_conditions_are_recognised_from_chroma_and_python_errors(error, kind):
    problem = storage_problem(error)
    assert (problem is None) if kind is None else (kind in problem)


@pytest.fixture
def small_disk(tmp_path):
    """A 6 MB tmpfs: room for the seed's index and little more."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", f"tmpfs-{uuid.uuid4().hex[:6]}", str(mount_point)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {result.stderr.strip()[:120]}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _assistant(data_dir: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {"ASSISTANT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *argv], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def _assert_one_line_error(result: subprocess.CompletedProcess, words: str, folder: Path) -> None:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert words in result.stderr and str(folder) in result.stderr


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:  # unbuffered: the write that fills the disk raises here, not at close
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_a_full_disk_is_one_line_everywhere_and_recovers_when_space_returns(small_disk):
    data = small_disk / "data"
    assert _assistant(data, "ingest", str(SEED)).returncode == 0
    filler = _fill(small_disk)

    seed_id = "antara-komdigi-as-kerja-sama-digital"
    commands = (["ingest", str(ARTICLE)], ["ask", "Siapa Duta Besar AS?"], ["documents"], ["remove", seed_id], ["reset", "--yes"])
    for argv in commands:
        _assert_one_line_error(_assistant(data, *argv), "full disk", data / "chroma")

    filler.unlink()
    listed = _assistant(data, "documents")
    assert listed.returncode == 0 and "antara-komdigi-as-kerja-sama-digital" in listed.stdout and "en-central-bank" not in listed.stdout
    assert _assistant(data, "ingest", str(ARTICLE)).returncode == 0
    answer = _assistant(data, "ask", "Siapa Duta Besar AS untuk Indonesia?")
    assert answer.returncode == 0 and "Kamala Shirin Lakhdhir" in answer.stdout


def test_a_read_only_index_folder_is_one_line_and_load_raises_an_assistant_error(small_disk):
    from assistant import Assistant, AssistantError, IndexStorageError

    data = small_disk / "data"
    assert _assistant(data, "ingest", str(SEED)).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        for argv in (["ingest", str(ARTICLE)], ["ask", "Siapa Duta Besar AS?"], ["documents"]):
            _assert_one_line_error(_assistant(data, *argv), "read-only", data / "chroma")
        with pytest.raises(IndexStorageError, match="read-only") as raised:
            Assistant.load(data_dir=data, chroma_url=None, llm=None)
        assert isinstance(raised.value, AssistantError)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    copy = shutil.copytree(data, small_disk.parent / "writable-copy")
    assert _assistant(copy, "ask", "Siapa Duta Besar AS untuk Indonesia?").returncode == 0
