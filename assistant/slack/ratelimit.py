"""Per-user rate limit: at most N questions per minute, then a friendly notice.

- `PerUserRateLimit`: in memory, a rolling minute, per process. Right for one bot process; with
  several, each process allows N.
- `RedisRateLimit`: one quota shared by every process that uses the same Redis
  (`ASSISTANT_REDIS_URL`): a counter per user that expires a minute after the user's first
  question in the window (`SET NX EX`, then `INCR`, in one transaction, so a counter can never be
  left without its expiry). A fixed window rather than a rolling one: a user can fit up to 2N
  questions around a window's edge, which is fine for a courtesy limit.

The limit is a courtesy, not a safeguard: when Redis cannot be reached the question is let through
(and the failure logged), rather than refusing everyone.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis import Redis

logger = logging.getLogger(__name__)


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
    def __init__(self, client: Redis, per_minute: int, window_seconds: int = 60, prefix: str = "article-assistant:") -> None:
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
