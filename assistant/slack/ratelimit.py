"""Per-user rate limit: at most N questions per rolling minute, then a friendly notice.

In memory, per process: enough for one bot process (the usual deployment). Several replicas would
each allow N; a shared limit belongs with the Redis `SeenEvents` when that arrives.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class PerUserRateLimit:
    def __init__(self, per_minute: int, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.window = window_seconds
        self.clock = clock
        self._asked: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def wait_seconds(self, user: str) -> int:
        """0 and the question counts, or how many seconds until this user may ask again."""
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
