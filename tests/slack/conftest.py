"""Fixtures for the Slack bot tests: one real index per session, fake Slack servers on 127.0.0.1,
and the real bot as a subprocess (`assistant slack --http` and Socket Mode) pointed at them."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_fakes import FakeSlackAPI, FakeSocketMode, SignedEventsClient, wait_until

REPO = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-1111-2222-testBOTtokenSECRET"
APP_TOKEN = "xapp-1-A0001-3333-testAPPtokenSECRET"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET)
HTTP_RATE_LIMIT = 3
"""Questions per user per minute in the HTTP bot; every test but the rate-limit one uses fresh users."""


def clean_env(**values: str) -> dict:
    """The test process's environment without any Slack or assistant settings, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ASSISTANT_"))}
    env.update(HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", **values)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    """The seed article ingested once, with the real embedder and Chroma."""
    data_dir = tmp_path_factory.mktemp("index")
    subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", str(REPO / "seeds")],
        env=clean_env(ASSISTANT_DATA_DIR=str(data_dir)),
        cwd=data_dir,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return data_dir


def copy_index(index_dir: Path, tmp_path_factory, name: str) -> Path:
    """A private data dir per bot process: its own index copy and its own slack.sqlite3."""
    data_dir = tmp_path_factory.mktemp(name)
    shutil.copytree(index_dir, data_dir, dirs_exist_ok=True)
    return data_dir


@pytest.fixture(scope="session")
def fake_slack():
    api = FakeSlackAPI().start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def fake_socket(fake_slack):
    server = FakeSocketMode().start()
    fake_slack.ws_url = server.url
    yield server
    server.stop()


@dataclass
class BotProcess:
    process: subprocess.Popen
    data_dir: Path
    log_path: Path
    events: SignedEventsClient | None = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def check_alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log()[-4000:]}")
        return True

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=5)


def start_bot(args: list[str], env: dict, data_dir: Path) -> BotProcess:
    log_path = data_dir / "bot.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "slack", *args], env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)
    return BotProcess(process, data_dir, log_path)


def finish(bot: BotProcess) -> None:
    code = bot.stop()
    log = bot.log()
    leaked = [secret for secret in SECRETS if secret in log]
    assert not leaked, "a secret appeared in the bot's log"
    assert code == 0, f"the bot did not stop cleanly on SIGTERM ({code}):\n{log[-4000:]}"


@pytest.fixture(scope="session")
def http_bot(index_dir, fake_slack, tmp_path_factory):
    """`assistant slack --http` on a free port, logging at DEBUG (so token redaction is exercised)."""
    data_dir = copy_index(index_dir, tmp_path_factory, "http-bot")
    port = free_port()
    env = clean_env(
        ASSISTANT_DATA_DIR=str(data_dir),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        SLACK_RATE_LIMIT_PER_MINUTE=str(HTTP_RATE_LIMIT),
        SLACK_LOG_LEVEL="DEBUG",
    )
    bot = start_bot(["--http", "--host", "127.0.0.1", "--port", str(port)], env, data_dir)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: bot.check_alive() and _healthy(base + "/healthz"), timeout=60, what="the HTTP bot to start")
    bot.events = SignedEventsClient(base + "/slack/events", SIGNING_SECRET)
    yield bot
    finish(bot)


@pytest.fixture(scope="session")
def socket_bot(index_dir, fake_slack, fake_socket, tmp_path_factory):
    """`assistant slack` in Socket Mode, connected to the fake WebSocket server."""
    data_dir = copy_index(index_dir, tmp_path_factory, "socket-bot")
    env = clean_env(ASSISTANT_DATA_DIR=str(data_dir), SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=fake_slack.api_url)
    bot = start_bot([], env, data_dir)
    wait_until(lambda: bot.check_alive() and fake_socket.connected, timeout=60, what="the Socket Mode bot to connect")
    yield bot
    finish(bot)
    assert not fake_socket.unacked(), f"envelopes never acknowledged: {fake_socket.unacked()}"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


_ids = itertools.count(1)


@pytest.fixture
def channel() -> str:
    """A channel of this test's own, so records from other tests never match."""
    return f"C{next(_ids):06d}"


@pytest.fixture
def user() -> str:
    return f"U{next(_ids):06d}"
