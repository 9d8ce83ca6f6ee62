"""Exactly-once answering: each user message is claimed once, whoever delivers it.

Slack can deliver one message several times: as both `app_mention` and `message` for a mention,
and again with `X-Slack-Retry-Num` when an ack was late (or a Socket Mode envelope is redelivered).
Event ids differ between the twins, so the key is the message itself: channel + message `ts`
(`message_key`). The worker that wins `claim(key)` answers; every other delivery is dropped.

A claim is taken just before answering and never released: if the process dies mid-answer the
message stays unanswered rather than risking a second reply. `SeenEvents` is the interface, with
two implementations, chosen where the bot starts (`assistant.slack.state`):

- `SqliteSeenEvents`: `slack.sqlite3` under the data directory; atomic across threads and
  processes on one machine (INSERT OR IGNORE on a primary key).
- `RedisSeenEvents`: `SET key 1 NX EX ttl` on a shared Redis (`ASSISTANT_REDIS_URL`); atomic
  across machines.

A store that cannot be reached raises `ClaimUnavailableError`; the responder then does not answer
(at most once, never twice) and says sorry instead (see `assistant.slack.state`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.errors import AssistantError
from assistant.slack.sqlite import connect, create

if TYPE_CHECKING:
    from redis import Redis

KEEP_SECONDS = 24 * 3600
"""Slack's last retry comes minutes after the first delivery; a day is ample."""

_SCHEMA = "CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, claimed_at REAL NOT NULL);"


class ClaimUnavailableError(AssistantError):
    """The de-duplication store could not be asked (Redis down, SQLite file unusable)."""


class SeenEvents(Protocol):
    def claim(self, key: str) -> bool:
        """True for the first caller with this key, False for every later one.
        Raises `ClaimUnavailableError` when the store cannot say."""
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
        try:
            with connect(self.path) as db:
                inserted = db.execute("INSERT OR IGNORE INTO seen_events VALUES (?, ?)", (key, time.time())).rowcount == 1
        except Exception as exc:  # sqlite3.Error, or the folder gone / read-only
            raise ClaimUnavailableError(f"Cannot record the claim in {self.path} ({exc})") from exc
        self._claims += 1  # not exact across threads; only paces pruning
        if self._claims % self.prune_every == 0:
            self.prune()
        return inserted

    def prune(self) -> None:
        with connect(self.path) as db:
            db.execute("DELETE FROM seen_events WHERE claimed_at < ?", (time.time() - self.keep_seconds,))

    def __repr__(self) -> str:
        return f"SqliteSeenEvents({str(self.path)!r})"


class RedisSeenEvents:
    """Claims as Redis keys that expire by themselves after `keep_seconds` (no pruning needed)."""

    def __init__(self, client: Redis, prefix: str = "article-assistant:", keep_seconds: float = KEEP_SECONDS) -> None:
        self.client = client
        self.prefix = prefix
        self.keep_seconds = int(keep_seconds)

    def claim(self, key: str) -> bool:
        from redis.exceptions import RedisError

        try:
            return bool(self.client.set(f"{self.prefix}seen:{key}", 1, nx=True, ex=self.keep_seconds))
        except RedisError as exc:
            raise ClaimUnavailableError(f"Cannot reach Redis to claim {key} ({type(exc).__name__}: {exc})") from exc

    def __repr__(self) -> str:
        return f"RedisSeenEvents(prefix={self.prefix!r})"
