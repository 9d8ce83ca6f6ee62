"""The HTTP door under connections that never send: each is closed after a read timeout, and past
MAX_CONNECTIONS a new one is closed at once, so stalled clients cannot pile up threads."""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest

from tests.support.bot_process import serve_in_process
from tests.support.slack_fakes import FakeSlackAPI


@pytest.fixture
def small_server(monkeypatch, tmp_path, bot):
    import assistant.slack.app as app

    monkeypatch.setattr(app, "MAX_CONNECTIONS", 4)
    monkeypatch.setattr(app._LoggingRequestHandler, "timeout", 0.5)
    api = FakeSlackAPI().start()
    try:
        with serve_in_process(tmp_path, api, ask=bot.ask) as events:
            yield events.url.rsplit("/slack/events", 1)[0]
    finally:
        api.stop()


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=5)
    return connection


def _closed_within(connection: socket.socket, seconds: float) -> bool:
    connection.settimeout(seconds)
    try:
        return connection.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_stalled_connections_are_capped_then_closed_and_the_server_keeps_answering(small_server):
    stalled = [_connect(small_server) for _ in range(4)]
    stalled[0].sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")  # half a request, then nothing
    time.sleep(0.1)
    one_too_many = _connect(small_server)
    assert _closed_within(one_too_many, 0.3)  # refused at once, not queued behind the stalled ones
    started = time.monotonic()
    assert all(_closed_within(connection, 3) for connection in stalled)  # each given up after its read timeout
    assert time.monotonic() - started < 3
    with urllib.request.urlopen(f"{small_server}/healthz", timeout=5) as response:
        assert response.status == 200
    for connection in (*stalled, one_too_many):
        connection.close()
