"""The windows in which an inspector must check in on an order.

Window n (counted from 1 over the order's whole life) is due at `anchor + (n - base) * every`,
and the last one at the end of the order. A report counts for the window that is open when it
is *recorded*, whatever time it claims: a report filed after a deadline cannot satisfy it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class CheckInSchedule:
    """Check-in windows of one cadence, from an anchor time until the order ends."""

    anchor: datetime
    every: timedelta
    grace: timedelta
    base: int
    ends_at: datetime

    def due(self, window: int) -> datetime | None:
        """When `window` is due, or None if the order ends before it opens."""
        opens = self.anchor + (window - self.base - 1) * self.every
        if window <= self.base or opens >= self.ends_at:
            return None
        return min(self.anchor + (window - self.base) * self.every, self.ends_at)

    def opens(self, window: int) -> datetime:
        """When `window` opens: the due time of the window before it, or the anchor."""
        return self.anchor + max(0, window - self.base - 1) * self.every

    def deadline(self, window: int) -> datetime | None:
        """The last moment a report can be recorded for `window`: its due time plus grace."""
        due = self.due(window)
        return None if due is None else due + self.grace

    def window_for(self, recorded_at: datetime) -> int:
        """The window a report recorded at `recorded_at` counts for."""
        late = self.anchor + self.grace - recorded_at
        return self.base + max(1, -(late // self.every))

    def windows(self) -> list[tuple[datetime, datetime]]:
        """Every window of this schedule, as (opens, due)."""
        found, window = [], self.base + 1
        while (due := self.due(window)) is not None:
            found.append((self.anchor + (window - self.base - 1) * self.every, due))
            window += 1
        return found

    def window_containing(self, moment: datetime) -> int:
        """The window whose span (opening, due] holds `moment`, grace aside."""
        return self.base + max(1, -((self.anchor - moment) // self.every))

    def ending_at(self, ends_at: datetime) -> CheckInSchedule:
        return replace(self, ends_at=ends_at)

    def tightened(self, *, every: timedelta, pending: int, at: datetime) -> CheckInSchedule:
        """A tighter cadence from `at`: the pending window falls due no later than `at + every`."""
        pending_due = self.due(pending)
        first_due = at + every if pending_due is None else min(pending_due, at + every)
        return replace(self, anchor=first_due - every, every=every, base=pending - 1)
