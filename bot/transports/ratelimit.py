"""Per-sender sliding-window rate limit for what a transport answers by itself.

One minute window, ``per_minute`` messages. The core limits what reaches it
(``bot/app.py``); a transport limits only traffic that never reaches the core (its own
commands and notices), unless it runs without a core that limits (bare transport tests).

A sender who goes over gets one polite notice: once per window (:meth:`should_warn`,
Matrix) or once until a message is allowed again (:meth:`first_refusal`, Telegram), so the
limiter never turns into a spam source itself.
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
        self._refused: set[str] = set()  # refused since their last allowed message

    def allow(self, key: str) -> bool:
        if self.per_minute <= 0:
            return True
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.WINDOW:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return False
        hits.append(now)
        self._refused.discard(key)
        return True

    def should_warn(self, key: str) -> bool:
        """True at most once per window for ``key``."""
        now = self._clock()
        last = self._warned_at.get(key)
        if last is not None and now - last < self.WINDOW:
            return False
        self._warned_at[key] = now
        return True

    def first_refusal(self, key: str) -> bool:
        """True for the first refusal since ``key``'s last allowed message."""
        if key in self._refused:
            return False
        self._refused.add(key)
        return True
