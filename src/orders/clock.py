"""Where recorded times come from: the real clock in service, a simulated one in drills."""

from __future__ import annotations

import threading
import time
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


class CarriedClock:
    """A clock read from `source` once every `every`, and carried forward in between by this
    host's monotonic clock, which nobody can set: the source's time without a round trip per
    command (the database's clock, read once every few seconds, not before each event)."""

    def __init__(self, source: Clock, *, every: timedelta = timedelta(seconds=5)) -> None:
        self.source = source
        self._every = every.total_seconds()
        self._lock = threading.Lock()
        self._read: datetime | None = None
        self._at = 0.0  # the monotonic time the source was read at (the read's midpoint)
        self._last: datetime | None = None

    def __call__(self) -> datetime:
        with self._lock:
            if self._read is None or time.monotonic() - self._at >= self._every:
                before = time.monotonic()
                moment = self.source()
                self._read, self._at = moment, (before + time.monotonic()) / 2
            now = self._read + timedelta(seconds=time.monotonic() - self._at)
            if self._last is not None and now < self._last:
                now = self._last  # a new reading a little behind the last: time stands still
            self._last = now
            return now
