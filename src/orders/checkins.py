"""The check-in rule of an issued order, in one value: its windows, what is due, and by when.

Window n (counted from 1 over the order's whole life) opens when window n-1 falls due and falls
due at `anchor + (n - base) * every`; the last one falls due at the end of the order. A window
is covered once a report counts for it or its missed check-in is recorded; the pending window
is the earliest one not covered. Its deadline is its due time plus the policy's grace: only
after the deadline is the check-in overdue. A report counts for the window open when it is
*recorded*, whatever time it claims, so a report filed after a deadline cannot satisfy it.

Events carry the due time and deadline this value decided; read models copy them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class MissedWindow:
    """A window whose deadline passed with no report recorded for it."""

    window: int
    opened_at: datetime
    due_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class CheckIns:
    """Check-in windows of one cadence, from an anchor until the order ends, and which are
    covered."""

    anchor: datetime
    every: timedelta
    grace: timedelta
    base: int
    ends_at: datetime
    pending: int = 1
    covered: tuple[int, ...] = ()  # windows after `pending` already covered, in order

    @classmethod
    def starting(
        cls, at: datetime, *, every: timedelta, grace: timedelta, ends_at: datetime
    ) -> CheckIns:
        """The windows of a newly issued order: the first falls due `every` after `at`."""
        return cls(anchor=at, every=every, grace=grace, base=0, ends_at=ends_at)

    # Windows

    def due_of(self, window: int) -> datetime | None:
        """When `window` falls due, or None if the order ends before it opens."""
        if window <= self.base or self.opens(window) >= self.ends_at:
            return None
        return min(self.anchor + (window - self.base) * self.every, self.ends_at)

    def opens(self, window: int) -> datetime:
        """When `window` opens: the due time of the window before it, or the anchor."""
        return self.anchor + max(0, window - self.base - 1) * self.every

    def deadline_of(self, window: int) -> datetime | None:
        """The last moment a report can be recorded for `window`: its due time plus grace."""
        due = self.due_of(window)
        return None if due is None else due + self.grace

    def window_for(self, recorded_at: datetime) -> int:
        """The window a report recorded at `recorded_at` counts for."""
        late = self.anchor + self.grace - recorded_at
        return self.base + max(1, -(late // self.every))

    def window_containing(self, moment: datetime) -> int:
        """The window whose span (opening, due] holds `moment`, grace aside."""
        return self.base + max(1, -((self.anchor - moment) // self.every))

    def windows(self) -> list[tuple[datetime, datetime]]:
        """Every window of this cadence, as (opens, due)."""
        found, window = [], self.base + 1
        while (due := self.due_of(window)) is not None:
            found.append((self.opens(window), due))
            window += 1
        return found

    # The pending check-in

    @property
    def due(self) -> datetime | None:
        """When the earliest check-in neither made nor alerted falls due; None: no more."""
        return self.due_of(self.pending)

    @property
    def deadline(self) -> datetime | None:
        """The pending check-in's deadline: after it, the check-in is overdue."""
        return self.deadline_of(self.pending)

    def overdue_at(self, now: datetime) -> bool:
        """Whether the pending check-in's deadline has passed at `now`."""
        deadline = self.deadline
        return deadline is not None and now > deadline

    def missed_at(self, now: datetime) -> MissedWindow | None:
        """The pending window, if its deadline has passed at `now` with no report for it."""
        due, deadline = self.due, self.deadline
        if due is None or deadline is None or now <= deadline:
            return None
        return MissedWindow(self.pending, self.opens(self.pending), due, deadline)

    def cover(self, window: int) -> CheckIns:
        """These check-ins once `window` is met by a report or alerted as missed."""
        covered = set(self.covered) | {window}
        pending = self.pending
        while pending in covered:
            covered.discard(pending)
            pending += 1
        return replace(
            self, pending=pending, covered=tuple(sorted(w for w in covered if w > pending))
        )

    # New cadences and ends

    def ending_at(self, ends_at: datetime) -> CheckIns:
        """The same windows for an order that now ends at `ends_at` (extended or revoked)."""
        return replace(self, ends_at=ends_at)

    def tightened(self, every: timedelta, *, at: datetime) -> CheckIns | None:
        """A tighter cadence from `at`, or None if `every` is not tighter.

        The pending window falls due no later than `at + every`, never later than it was.
        """
        if every >= self.every:
            return None
        pending_due = self.due
        first_due = at + every if pending_due is None else min(pending_due, at + every)
        return replace(
            self, anchor=first_due - every, every=every, base=self.pending - 1, covered=()
        )
