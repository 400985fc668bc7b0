"""Clocks: the real one, and a controllable one for tests of deadlines and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from storage.timeutil import as_utc  # re-exported: bot may import storage, never the reverse


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to (shipped in the package for tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs: float) -> datetime:
        self._now += timedelta(**kwargs)
        return self._now


__all__ = ["Clock", "FakeClock", "SystemClock", "as_utc"]
