"""What the bot's processes share, in one place: which messages are claimed (exactly-once
answering), each user's question count (the rate limit), and the small SQLite file they live in
when there is no Redis. Chosen once, where the bot starts (`open_shared_state`).

    one process, or several on one machine    slack.sqlite3 under ASSISTANT_DATA_DIR (give every
                                              process the same data directory); rate limit per process
    several machines                          ASSISTANT_REDIS_URL=redis://host:6379/0: claims
                                              (`SET NX EX`) and one rate-limit quota per user in Redis,
                                              every key under one prefix (KEY_PREFIX)

Several processes should read one Chroma server (ASSISTANT_CHROMA_URL), so an `assistant ingest`
reaches all of them. Answers and 👍/👎 feedback stay in `slack.sqlite3` under each process's data
directory either way (`feedback`).

**Claims.** Slack can deliver one message several times: as both `app_mention` and `message` for a
mention, and again with `X-Slack-Retry-Num` when an ack was late (or a Socket Mode envelope is
redelivered). Event ids differ between the twins, so the key is the message itself: channel +
message `ts` (`message_key`). The worker that wins `claim(key)` answers; every other delivery is
dropped. A claim is taken just before answering and never released: if the process dies mid-answer
the message stays unanswered rather than risking a second reply.

- `SqliteSeenEvents`: atomic across threads and processes on one machine (INSERT OR IGNORE on a
  primary key), pruned after a day.
- `RedisSeenEvents`: `SET key 1 NX EX ttl`; atomic across machines, expiring by itself.

**Rate limit.** At most N questions per user per minute, then a friendly notice.

- `PerUserRateLimit`: in memory, a rolling minute, per process. Right for one bot process; with
  several, each process allows N.
- `RedisRateLimit`: one quota shared by every process on the same Redis: a counter per user that
  expires a minute after the user's first question in the window (`SET NX EX`, then `INCR`, in one
  transaction, so a counter can never be left without its expiry). A fixed window rather than a
  rolling one: a user can fit up to 2N questions around a window's edge, fine for a courtesy limit.

**When Redis fails.**

- At start-up (unreachable, wrong password, not a redis:// URL): a `ConfigurationError`, so
  `assistant slack` stops with one clear line and exit code 1 instead of running without
  de-duplication.
- While running: a question whose claim cannot be recorded (`ClaimUnavailableError`, also for an
  unusable SQLite file) is **not answered** (a second reply from another process could not be
  ruled out). The error is logged and the asker gets a short apology; each process says it at most
  once per message (`responder`). The rate limit is a courtesy, not a safeguard: it lets questions
  through while Redis is down (and logs it). redis-py reconnects by itself, so answers resume as
  soon as Redis is back, without a restart.

**The SQLite file.** A fresh connection per operation: listeners and workers run on many threads,
and SQLite connections must not be shared between them. WAL lets readers (`assistant feedback
export`) run beside the bot; autocommit makes each statement its own atomic transaction, which is
all these tables need.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from assistant.errors import AssistantError, ConfigurationError
from assistant.settings import Settings
from assistant.slack.settings import SlackSettings

if TYPE_CHECKING:
    from redis import Redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "article-assistant:"
"""Every Redis key the bot writes starts with this: `…seen:<claim key>`, `…rate:<user>`."""

# -- the SQLite file -------------------------------------------------------------------------------

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
        _use_wal(db)
        db.executescript(schema)


def _use_wal(db: sqlite3.Connection, attempts: int = 50) -> None:
    """Switch the file to write-ahead logging. Two bots starting together can find the file locked:
    SQLite fails a journal-mode change at once instead of waiting out the busy timeout, so retry."""
    for attempt in range(attempts):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


# -- claims: exactly-once answering ----------------------------------------------------------------

KEEP_SECONDS = 24 * 3600
"""Slack's last retry comes minutes after the first delivery; a day is ample."""

_CLAIMS_SCHEMA = "CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, claimed_at REAL NOT NULL);"


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
        create(self.path, _CLAIMS_SCHEMA)
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

    def __init__(self, client: Redis, prefix: str = KEY_PREFIX, keep_seconds: float = KEEP_SECONDS) -> None:
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


# -- the rate limit --------------------------------------------------------------------------------

class RateLimit(Protocol):
    def wait_seconds(self, user: str) -> int:
        """0 and the question counts, or how many seconds until this user may ask again."""
        ...


class PerUserRateLimit:
    def __init__(self, per_minute: int, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.window = window_seconds
        self.clock = clock
        self._asked: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def wait_seconds(self, user: str) -> int:
        if self.per_minute <= 0:
            return 0
        now = self.clock()
        with self._lock:
            asked = self._asked[user]
            while asked and asked[0] <= now - self.window:
                asked.popleft()
            if len(asked) >= self.per_minute:
                return max(1, math.ceil(asked[0] + self.window - now))
            asked.append(now)
            return 0

    def __repr__(self) -> str:
        if self.per_minute <= 0:
            return "PerUserRateLimit(off)"
        return f"PerUserRateLimit({self.per_minute} per user per {self.window:g}s, in this process)"


class RedisRateLimit:
    def __init__(self, client: Redis, per_minute: int, window_seconds: int = 60, prefix: str = KEY_PREFIX) -> None:
        self.client = client
        self.per_minute = per_minute
        self.window = int(window_seconds)
        self.prefix = prefix

    def wait_seconds(self, user: str) -> int:
        if self.per_minute <= 0:
            return 0
        from redis.exceptions import RedisError

        key = f"{self.prefix}rate:{user}"
        try:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, nx=True, ex=self.window)
                pipe.incr(key)
                pipe.ttl(key)
                _, count, ttl = pipe.execute()
        except RedisError as exc:
            logger.error("Rate limit not checked for %s: Redis is unavailable (%s: %s); letting the question through", user, type(exc).__name__, exc)
            return 0
        if count <= self.per_minute:
            return 0
        return max(1, int(ttl))

    def __repr__(self) -> str:
        if self.per_minute <= 0:
            return "RedisRateLimit(off)"
        return f"RedisRateLimit({self.per_minute} per user per {self.window}s, shared, prefix={self.prefix!r})"


# -- choosing and opening the shared state ---------------------------------------------------------

REDIS_TIMEOUT_SECONDS = 2.0
"""Connect and read timeout: a Redis that does not answer in 2 s is treated as down."""


def open_shared_state(settings: Settings, slack: SlackSettings) -> tuple[SeenEvents, RateLimit]:
    """The de-duplication store and the rate limit for this deployment (see the module docstring)."""
    if slack.redis_url is None or not slack.uses_redis:
        return SqliteSeenEvents(state_path(settings)), PerUserRateLimit(slack.slack_rate_limit_per_minute)
    client = connect_redis(slack.redis_url.get_secret_value().strip())
    return RedisSeenEvents(client), RedisRateLimit(client, slack.slack_rate_limit_per_minute)


def connect_redis(url: str) -> Redis:
    """A client for `url`, checked with a PING. Raises `ConfigurationError` naming the (password-less) URL."""
    shown = without_password(url)
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigurationError(f"ASSISTANT_REDIS_URL must look like redis://host:6379/0, got {shown!r}.")
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import AuthenticationError, RedisError
    from redis.retry import Retry

    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            # Two quick retries ride out a blip; longer outages fail the claim (no answer, an apology).
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
            health_check_interval=30,
        )
        client.ping()
    except AuthenticationError as exc:
        raise ConfigurationError(f"Redis at {shown} refused the credentials in ASSISTANT_REDIS_URL ({exc}).") from None
    except (RedisError, ValueError) as exc:
        raise ConfigurationError(
            f"Cannot reach Redis at {shown} ({type(exc).__name__}: {exc}). Check ASSISTANT_REDIS_URL and that redis-server is running."
        ) from None
    return client


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
