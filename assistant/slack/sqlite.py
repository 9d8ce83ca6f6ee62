"""The bot's small SQLite file under the data directory (de-duplication, answers, feedback).

A fresh connection per operation: listeners and workers run on many threads, and SQLite connections
must not be shared between them. WAL lets readers (`assistant feedback export`) run beside the bot;
autocommit makes each statement its own atomic transaction, which is all these tables need.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.settings import Settings

FILENAME = "slack.sqlite3"


def state_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / FILENAME


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        yield db
    finally:
        db.close()


def create(path: Path, schema: str) -> None:
    """Create the file (and its folder) and the tables in `schema` if they are missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
