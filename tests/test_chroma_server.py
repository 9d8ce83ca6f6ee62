"""Against a real `chroma run` server on 127.0.0.1: ingest, answer, and a clear error when it is down."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.errors import IndexUnavailableError
from tests.conftest import DOC_ID, SEED

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = _free_port()
    process = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield url, process
    process.kill()
    process.wait(timeout=10)


def test_ingest_and_answer_through_a_chroma_server(chroma_server, fresh_settings):
    from assistant import Assistant
    from ingest import ingest

    url, process = chroma_server
    settings = fresh_settings.model_copy(update={"chroma_url": url})
    assert ingest([str(SEED)], settings=settings).documents[0].written == 13
    assert ingest([str(SEED)], settings=settings).documents[0].written == 0
    assert not (fresh_settings.data_dir / "chroma").exists()  # nothing written locally

    bot = Assistant.load(settings)
    answer = bot.ask("Siapa Duta Besar AS untuk Indonesia?")
    assert [c.sentence_id for c in answer.citations] == [f"{DOC_ID}#12"]

    process.kill()
    process.wait(timeout=10)
    with pytest.raises(IndexUnavailableError, match="unavailable right now"):
        bot.retrieve("Siapa Duta Besar AS untuk Indonesia?")
