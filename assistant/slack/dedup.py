"""Exactly-once answering: each user message is claimed once, whoever delivers it.

Slack can deliver one message several times: as both `app_mention` and `message` for a mention,
and again with `X-Slack-Retry-Num` when an ack was late (or a Socket Mode envelope is redelivered).
Event ids differ between the twins, so the key is the message itself: channel + message `ts`
(`message_key`). The worker that wins `claim(key)` answers; every other delivery is dropped.

A claim is taken just before answering and never released: if the process dies mid-answer the
message stays unanswered rather than risking a second reply. `SeenEvents` is the interface; the
SQLite implementation is atomic across threads and processes on one machine (INSERT OR IGNORE on
a primary key). A Redis implementation for several machines is `SET key 1 NX EX ttl`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from assistant.slack.sqlite import connect, create

KEEP_SECONDS = 24 * 3600
"""Slack's last retry comes minutes after the first delivery; a day is ample."""

_SCHEMA = "CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, claimed_at REAL NOT NULL);"


class SeenEvents(Protocol):
    def claim(self, key: str) -> bool:
        """True for the first caller with this key, False for every later one."""
        ...


def message_key(channel: str, ts: str) -> str:
    return f"message:{channel}:{ts}"


def command_key(trigger_id: str) -> str:
    return f"command:{trigger_id}"


class SqliteSeenEvents:
    def __init__(self, path: Path, keep_seconds: float = KEEP_SECONDS, prune_every: int = 500) -> None:
        self.path = Path(path)
        self.keep_seconds = keep_seconds
        self.prune_every = prune_every
        self._claims = 0
        create(self.path, _SCHEMA)
        self.prune()

    def claim(self, key: str) -> bool:
        with connect(self.path) as db:
            inserted = db.execute("INSERT OR IGNORE INTO seen_events VALUES (?, ?)", (key, time.time())).rowcount == 1
        self._claims += 1  # not exact across threads; only paces pruning
        if self._claims % self.prune_every == 0:
            self.prune()
        return inserted

    def prune(self) -> None:
        with connect(self.path) as db:
            db.execute("DELETE FROM seen_events WHERE claimed_at < ?", (time.time() - self.keep_seconds,))
