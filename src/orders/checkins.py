"""The check-in rule of an issued order, in one value: its windows, which window a report meets,
what is due, and by when.

Windows are numbered from 1 over the order's whole life; each spans (opens, due], and the next
opens when it falls due. The cadence is kept as a history of segments: each says from which
window on it applies, when that window opens and falls due, and the period of the windows after
it; a segment without a period has no windows (a risk level the policy gives no check-ins). A
new cadence (a raised or lowered risk level) adds a segment and keeps the earlier ones, so a
time in a window of an earlier cadence is still matched against that window. No window runs
past the order's end: the one that would is cut at the end if the policy makes the end a
check-in (`at_end`), and is no window otherwise.

A report meets the window its *claimed* visit time lies in, and only if the service *recorded*
it no later than that window's deadline (its due time plus the policy's grace). A report
recorded after that deadline is late: it meets no window, neither the one it claims nor the
one open when it was entered, so backfilling an alerted window never hides the next one.

A window is covered once a report meets it or its missed check-in is recorded; the pending
window is the earliest one not covered, and only after its deadline is it overdue. Events
carry the due time and deadline this value decided; read models copy them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Segment:
    """One cadence: from window `first`, which opens at `opens` and falls due at `first_due`,
    a window every `every` (None: no windows)."""

    first: int
    opens: datetime
    first_due: datetime
    every: timedelta | None


@dataclass(frozen=True)
class MissedWindow:
    """A window whose deadline passed with no report recorded for it."""

    window: int
    opened_at: datetime
    due_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class CheckIns:
    """An order's check-in windows under each cadence it has had, until it ends, and which are
    covered."""

    segments: tuple[Segment, ...]
    grace: timedelta
    ends_at: datetime
    at_end: bool = True  # whether the end of the order is a check-in
    pending: int = 1
    covered: tuple[int, ...] = ()  # windows after `pending` already covered, in order

    @classmethod
    def starting(
        cls,
        at: datetime,
        *,
        every: timedelta | None,
        grace: timedelta,
        ends_at: datetime,
        at_end: bool,
    ) -> CheckIns:
        """The windows of a newly issued order: the first falls due `every` after `at`; with no
        cadence, it has none."""
        first = Segment(1, at, at if every is None else at + every, every)
        return cls(segments=(first,), grace=grace, ends_at=ends_at, at_end=at_end)

    @property
    def every(self) -> timedelta | None:
        """The cadence now in force (None: no required check-ins)."""
        return self.segments[-1].every

    # Windows

    def span_of(self, window: int) -> tuple[datetime, datetime] | None:
        """When `window` opens and falls due, or None if the order has no such window."""
        index = _last(s.first <= window for s in self.segments)
        if index is None or (segment := self.segments[index]).every is None:
            return None
        k = window - segment.first
        opens = segment.opens if k == 0 else segment.first_due + (k - 1) * segment.every
        due = segment.first_due + k * segment.every
        if index + 1 < len(self.segments):  # a later cadence cuts the window it starts in
            due = min(due, self.segments[index + 1].opens)
        if opens >= self.ends_at:
            return None
        if due > self.ends_at:
            if not self.at_end:
                return None
            due = self.ends_at
        return opens, due

    def due_of(self, window: int) -> datetime | None:
        """When `window` falls due, or None if the order has no such window."""
        span = self.span_of(window)
        return None if span is None else span[1]

    def opens(self, window: int) -> datetime | None:
        """When `window` opens: when the window before it fell due, or the start of a cadence."""
        span = self.span_of(window)
        return None if span is None else span[0]

    def deadline_of(self, window: int) -> datetime | None:
        """The last moment a report can be recorded for `window`: its due time plus grace."""
        due = self.due_of(window)
        return None if due is None else due + self.grace

    def window_containing(self, moment: datetime) -> int | None:
        """The window whose span (opens, due] holds `moment` (the very start of the first window
        included), grace aside; None if no window does."""
        index = _last(s.opens < moment for s in self.segments) or 0
        segment = self.segments[index]
        if segment.every is None or moment < segment.opens:
            return None
        window = segment.first + max(0, -((segment.first_due - moment) // segment.every))
        if index + 1 < len(self.segments) and window >= self.segments[index + 1].first:
            return None
        span = self.span_of(window)
        return window if span is not None and moment <= span[1] else None

    def counts_for(self, visited_at: datetime, recorded_at: datetime) -> int | None:
        """The window a report claiming `visited_at`, recorded at `recorded_at`, meets: the
        window its claimed time lies in, if recorded by that window's deadline; else None."""
        window = self.window_containing(visited_at)
        deadline = None if window is None else self.deadline_of(window)
        return window if deadline is not None and recorded_at <= deadline else None

    def is_late(self, visited_at: datetime, recorded_at: datetime) -> bool:
        """Whether a report was recorded after the deadline of the window its claimed time lies
        in (a time in no window: after the order's end plus grace)."""
        window = self.window_containing(visited_at)
        deadline = None if window is None else self.deadline_of(window)
        return recorded_at > (self.ends_at + self.grace if deadline is None else deadline)

    def windows(self) -> list[tuple[datetime, datetime]]:
        """Every window of the order, as (opens, due)."""
        found, window = [], 1
        while (span := self.span_of(window)) is not None:
            found.append(span)
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
        span, deadline = self.span_of(self.pending), self.deadline
        if span is None or deadline is None or now <= deadline:
            return None
        return MissedWindow(self.pending, span[0], span[1], deadline)

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

    def recadenced(self, every: timedelta | None, *, at: datetime) -> CheckIns:
        """A new cadence from `at`, looser or tighter: every window opened by `at`, and the
        pending one, keep their due times; the windows after them follow `every` (None: there
        are none)."""
        kept = self._current(at)
        start = max(at, self.segments[0].opens)
        due = self.due_of(kept) if kept else None
        opens = start if due is None else max(start, due)
        return self._restarted(kept + 1, opens, every)

    def tightened(self, every: timedelta | None, *, at: datetime) -> CheckIns | None:
        """A tighter cadence from `at`, or None if `every` is not tighter.

        The current window falls due no later than `at + every`, never later than it was; if
        it is met already, the next one opens at `at` and falls due `every` later.
        """
        if every is None or (self.every is not None and every >= self.every):
            return None
        current = self._current(at)
        start = max(at, self.segments[0].opens)
        span = self.span_of(current) if current else None
        if span is None or current in self.covered or current < self.pending or at >= span[1]:
            return self._restarted(current + 1, start, every)
        opens, due = min(span[0], start), min(span[1], start + every)
        return self._restarted(current, opens, every, first_due=due)

    def _current(self, at: datetime) -> int:
        """The last window opened by `at`, or the pending one if later; 0 if neither is."""
        opened, window = 0, 1
        while (span := self.span_of(window)) is not None and span[0] < at:
            opened, window = window, window + 1
        return max(opened, self.pending if self.span_of(self.pending) is not None else 0)

    def _restarted(
        self,
        first: int,
        opens: datetime,
        every: timedelta | None,
        *,
        first_due: datetime | None = None,
    ) -> CheckIns:
        """These check-ins with a cadence of `every` from window `first`, opening at `opens`."""
        if first_due is None:
            first_due = opens if every is None else opens + every
        kept = tuple(s for s in self.segments if s.first < first)
        return replace(
            self,
            segments=(*kept, Segment(first, opens, first_due, every)),
            covered=tuple(w for w in self.covered if w < first),
        )


def _last(flags: Iterable[bool]) -> int | None:
    """The index of the last true flag, or None."""
    found = None
    for index, flag in enumerate(flags):
        if flag:
            found = index
    return found
