"""Fixtures for the Slack bot tests: one real index per session, fake Slack servers on 127.0.0.1,
and the real bot as a subprocess (`assistant slack --http`, and Socket Mode) pointed at them."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.support.bot_process import APP_TOKEN, BOT_TOKEN, RATE_LIMIT, clean_env, copy_index, finish, start_bot, start_http_bot, wait_until_healthy
from tests.support.slack_fakes import FakeSlackAPI, FakeSocketMode, wait_until


@pytest.fixture(scope="session")
def index_dir(seed_settings) -> Path:
    """The seed article's index, built once per session by tests/conftest.py (real embedder and
    Chroma). Bots get copies of it, so their SQLite files never land in the shared index."""
    return Path(seed_settings.data_dir)


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


@pytest.fixture(scope="session")
def http_bot(index_dir, fake_slack, tmp_path_factory):
    """`assistant slack --http` on a free port, logging at DEBUG (so token redaction is exercised)."""
    data_dir = copy_index(index_dir, tmp_path_factory.mktemp("http-bot"))
    bot = start_http_bot(fake_slack.api_url, data_dir, SLACK_RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT), SLACK_LOG_LEVEL="DEBUG")
    wait_until_healthy(bot, timeout=60)
    yield bot
    finish(bot)


@pytest.fixture(scope="session")
def socket_bot(index_dir, fake_slack, fake_socket, tmp_path_factory):
    """`assistant slack` in Socket Mode, connected to the fake WebSocket server."""
    data_dir = copy_index(index_dir, tmp_path_factory.mktemp("socket-bot"))
    env = clean_env(ASSISTANT_DATA_DIR=str(data_dir), SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=fake_slack.api_url)
    bot = start_bot([], env, data_dir)
    wait_until(lambda: bot.check_alive() and fake_socket.connected, timeout=60, what="the Socket Mode bot to connect")
    yield bot
    finish(bot)
    assert not fake_socket.unacked(), f"envelopes never acknowledged: {fake_socket.unacked()}"


_ids = itertools.count(1)


@pytest.fixture
def channel() -> str:
    """A channel of this test's own, so records from other tests never match."""
    return f"C{next(_ids):06d}"


@pytest.fixture
def user() -> str:
    return f"U{next(_ids):06d}"
