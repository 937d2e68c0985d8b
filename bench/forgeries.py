"""How forging inspectors forge: one small function per pattern, registered in PATTERNS.

A pattern takes a `Forging` (the forger, his orders and their check-in windows, a seeded
random source) and returns the reports he forges, each for one window; the generator has
his other windows visited honestly. A forger forges about half of what a pattern could
(at least once), and gives positions by his habit: his phone's own fix (`office`), none, or her
home's coordinates through a mock-location app (`mock`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from random import Random
from typing import TypeVar

from bench.world import (
    DAY,
    HOUR,
    MINUTE,
    WEEK,
    Inspector,
    Order,
    Report,
    Window,
    days_inside,
    gps_fix,
    local,
    moved,
    near,
    working,
    working_time,
)
from orders.values import Position, VisitOutcome

T = TypeVar("T")
SHARE = 0.5


@dataclass(frozen=True)
class Forging:
    """What a forging inspector works with."""

    rng: Random
    inspector: Inspector
    orders: dict[int, Order]
    windows: list[Window]
    weeks: int

    def some(self, candidates: Sequence[T], share: float = SHARE) -> list[T]:
        """Each candidate with probability `share`, and at least one if there are any."""
        chosen = [c for c in candidates if self.rng.random() < share]
        return chosen or list(self.rng.sample(list(candidates), min(1, len(candidates))))

    def report(
        self,
        window: Window,
        *,
        claimed: datetime,
        at: datetime,
        position: Position | None,
        proof_given: bool = False,
    ) -> Report:
        """A report of a visit never made, labelled with the forger's pattern."""
        assert self.inspector.pattern is not None
        order = self.orders[window.order]
        return Report(
            order=window.order,
            window=window.number,
            inspector=self.inspector.id,
            label=self.inspector.pattern,
            at=at,
            claimed_at=min(claimed, at - MINUTE),
            position=position,
            outcome=VisitOutcome.PERSON_SAFE,
            visited_at=None,
            proof_given=proof_given,
            position_near=near(order, position),
        )

    def position(self, window: Window) -> Position | None:
        """The position he gives by habit."""
        if self.inspector.habit == "office":
            return gps_fix(self.rng, self.inspector.office)
        return None if self.inspector.habit == "none" else self.orders[window.order].home

    def in_time(self, window: Window, minutes: tuple[float, float]) -> tuple[datetime, datetime]:
        """A claimed time and, `minutes` later, an entry in working hours, on a day inside."""
        day = self.rng.choice(days_inside(window))
        at = working_time(self.rng, local(day, 9), local(day, 19))
        return at - self.rng.uniform(*minutes) * MINUTE, at


def backfill(f: Forging) -> list[Report]:
    """Never visits; once the sweep has raised the missed check-in, files a report claiming a
    time in the window's last three days."""
    return [
        f.report(
            w,
            claimed=working_time(f.rng, max(w.opens, w.due - 3 * DAY), w.due),
            at=working_time(f.rng, w.deadline + HOUR, w.deadline + 2 * DAY),
            position=f.position(w),
        )
        for w in f.some(f.windows)
    ]


def batch(f: Forging) -> list[Report]:
    """Skips whole weeks; on Saturday afternoon enters, a few minutes apart, a report for each
    window falling due in the week ahead, the claimed times spread over the week gone."""
    sittings = [local(7 * week + 5, f.rng.uniform(14, 18)) for week in range(f.weeks)]
    reports = []
    for sitting in f.some([s for s in sittings if _due_in_week_ahead(f, s)]):
        typed, due = sitting, _due_in_week_ahead(f, sitting)
        for w in f.rng.sample(due, len(due)):
            typed += f.rng.uniform(1.5, 4) * MINUTE
            claimed = working_time(f.rng, max(w.opens, sitting - WEEK), sitting - HOUR)
            reports.append(f.report(w, claimed=claimed, at=typed, position=f.position(w)))
    return reports


def _due_in_week_ahead(f: Forging, sitting: datetime) -> list[Window]:
    """His windows falling due in the week after `sitting`, open an hour or more before it."""
    return [w for w in f.windows if sitting <= w.due < sitting + WEEK and w.opens < sitting - HOUR]


def impossible_travel(f: Forging) -> list[Report]:
    """Makes up a round: visits to three to five homes claimed 3-12 minutes apart, each entered
    as if on the spot with a mock location at her home. Nobody crosses town and checks on a
    woman's safety in that time; homes across his beat or district are also too far apart."""
    reports: list[Report] = []
    taken: set[tuple[int, int]] = set()
    for day in f.some(_round_days(f), share=0.25):
        free = [w for w in f.windows if day in days_inside(w) and (w.order, w.number) not in taken]
        if len(free) < 2:
            continue
        claimed = local(day, f.rng.uniform(10, 16))
        for w in f.rng.sample(free, min(len(free), f.rng.randint(3, 5))):
            taken.add((w.order, w.number))
            at = claimed + f.rng.uniform(2, 10) * MINUTE
            reports.append(f.report(w, claimed=claimed, at=at, position=f.orders[w.order].home))
            claimed += f.rng.uniform(3, 12) * MINUTE
    return reports


def _round_days(f: Forging) -> list[int]:
    """The working days on which two or more of his windows are open all day."""
    days = [d for d in range(7 * f.weeks) if working(d)]
    return [d for d in days if sum(d in days_inside(w) for w in f.windows) >= 2]


def desk(f: Forging) -> list[Report]:
    """Files reports from his desk at the station, claiming a visit an hour or two ago: the
    position is his phone's, at the office."""
    reports = []
    for w in f.some(f.windows):
        claimed, at = f.in_time(w, (20, 120))
        office = gps_fix(f.rng, f.inspector.office)
        reports.append(f.report(w, claimed=claimed, at=at, position=office))
    return reports


def phone_code(f: Forging) -> list[Report]:
    """Phones her instead of visiting; she reads out her proof code; he files the visit with no
    position."""
    reports = []
    for w in f.some(f.windows):
        claimed, at = f.in_time(w, (5, 60))
        reports.append(f.report(w, claimed=claimed, at=at, position=None, proof_given=True))
    return reports


def mock_location(f: Forging) -> list[Report]:
    """Files the visit in time, a mock-location app placing his phone at her home (a few metres'
    jitter)."""
    reports = []
    for w in f.some(f.windows):
        claimed, at = f.in_time(w, (5, 60))
        home = moved(f.orders[w.order].home, 0.01, f.rng.uniform(0, math.tau))
        reports.append(f.report(w, claimed=claimed, at=at, position=home))
    return reports


PATTERNS: dict[str, Callable[[Forging], list[Report]]] = {
    "backfill": backfill,
    "batch": batch,
    "impossible_travel": impossible_travel,
    "desk": desk,
    "phone_code": phone_code,
    "mock_location": mock_location,
}
