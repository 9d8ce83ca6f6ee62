"""Fixtures for the scale-out and fault tests: a real `chroma run` server holding the seed article,
a real `redis-server`, the fake Slack Web API, and several real `assistant slack --http` processes.

The fakes, servers and bot-process helpers come from tests/support, shared with tests/slack and
benchmarks/load.py.
"""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import SEED
from tests.support.servers import ChromaServer, RedisServer
from tests.support.slack_fakes import FakeSlackAPI


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """One Chroma server for the session; each group of bots reads its own collection on it."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server for the session (tests use their own channels, users and key prefixes);
    skips the tests that need it when redis-server is not installed."""
    server = RedisServer(tmp_path_factory.mktemp("redis-server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ingest_into(chroma_server, tmp_path_factory):
    """`ingest_into(collection)`: the seed article ingested into that collection of the server,
    in this process (the subprocess `assistant ingest` is what test_ingest_while_answering runs)."""
    from assistant.settings import Settings
    from ingest import ingest

    def ingest_seed(collection: str, server: ChromaServer = chroma_server) -> str:
        settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("ingest"), chroma_url=server.url, collection=collection, llm=None)
        ingest([str(SEED)], settings=settings)
        return collection

    return ingest_seed


@pytest.fixture(scope="module")
def fake_slack():
    api = FakeSlackAPI().start()
    yield api
    api.stop()


_ids = itertools.count(1)


@pytest.fixture
def channel() -> str:
    return f"CS{next(_ids):05d}"


@pytest.fixture
def user() -> str:
    return f"US{next(_ids):05d}"
