"""Per-user sliding-window rate limit.

One minute window, ``per_minute`` messages. A user who goes over gets exactly one polite
notice per window (``should_warn``), so the limiter never turns into a spam source itself.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    WINDOW = 60.0

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._warned_at: dict[str, float] = {}

    def allow(self, user_id: str) -> bool:
        if self.per_minute <= 0:
            return True
        now = self._clock()
        hits = self._hits.setdefault(user_id, deque())
        while hits and now - hits[0] >= self.WINDOW:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return False
        hits.append(now)
        return True

    def should_warn(self, user_id: str) -> bool:
        now = self._clock()
        last = self._warned_at.get(user_id)
        if last is not None and now - last < self.WINDOW:
            return False
        self._warned_at[user_id] = now
        return True
