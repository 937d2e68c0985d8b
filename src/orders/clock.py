"""Where recorded times come from: the real clock in service, a simulated one in drills."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware, in UTC."""


def system_clock() -> datetime:
    """The server's own clock."""
    return datetime.now(tz=UTC)


class SimulatedClock:
    """A clock that stands still until told to move; for tests, the demo and drills."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> datetime:
        with self._lock:
            self._now += by
            return self._now

    def set(self, to: datetime) -> None:
        with self._lock:
            self._now = to.astimezone(UTC)
