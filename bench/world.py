"""The world of a synthetic district: its calendar, its places, and the values a generated
district is made of (inspectors, orders, check-in windows, reports with their labels).

Times are UTC; the district keeps Bishkek's working week (UTC+6, 09:00-19:00, Monday to
Saturday). Each report carries, besides what the application is told, ground truth it cannot
see yet: whether the visit happened, whether the protected person gave her proof code, and
whether the position reported is near one of her locations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random

from orders.values import Position, RiskLevel, VisitOutcome

MINUTE, HOUR, DAY, WEEK = (
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=7),
)
MIDNIGHT = datetime(2026, 3, 1, 18, tzinfo=UTC)  # Monday 2 March 2026, 00:00 in Bishkek
NEAR_KM = 0.5  # ground truth: a position this close to one of her locations is near her
HONEST = "honest"


@dataclass(frozen=True)
class Inspector:
    """A district inspector: his office, the centre of his beat, and how he forges (if he does)."""

    id: str
    office: Position
    beat: Position
    pattern: str | None  # None: honest
    habit: str  # the position a forger gives: "office" (his phone's), "none", "mock" (her home)


@dataclass(frozen=True)
class Order:
    """A high or medium threat order, issued at `at` to `inspector`; her home, maybe her work."""

    index: int
    level: RiskLevel
    at: datetime
    inspector: str
    home: Position
    work: Position | None


@dataclass(frozen=True)
class Window:
    """One check-in window of an order, as the application's policy draws it."""

    order: int
    number: int
    opens: datetime
    due: datetime
    deadline: datetime


@dataclass(frozen=True)
class Report:
    """A visit report as filed at `at` (the server's time), its label, and its ground truth."""

    order: int
    window: int  # the window it was filed for
    inspector: str
    label: str  # HONEST or a forging pattern
    at: datetime
    claimed_at: datetime
    position: Position | None
    outcome: VisitOutcome
    visited_at: datetime | None  # when the visit truly was; None: none was made
    proof_given: bool  # she gave her code (in person, or read out on the phone)
    position_near: bool  # the position reported lies within NEAR_KM of one of her locations


@dataclass(frozen=True)
class Breach:
    """A breach of an order, reported by her social worker at `at`."""

    order: int
    occurred_at: datetime
    at: datetime


Action = Order | Report | Breach


@dataclass(frozen=True)
class District:
    """A generated district and its actions, in the order the server records them."""

    seed: int
    weeks: int
    inspectors: tuple[Inspector, ...]
    orders: tuple[Order, ...]
    windows: tuple[Window, ...]
    actions: tuple[Action, ...]

    @property
    def reports(self) -> list[Report]:
        return [a for a in self.actions if isinstance(a, Report)]

    @property
    def end(self) -> datetime:
        return MIDNIGHT + self.weeks * WEEK


# The calendar: local days numbered from Monday 2 March, working hours 09:00-19:00.


def local(day: int, hours: float) -> datetime:
    return MIDNIGHT + day * DAY + timedelta(hours=hours)


def day_of(moment: datetime) -> int:
    return (moment - MIDNIGHT) // DAY


def working(day: int) -> bool:
    return day % 7 != 6  # Sundays off


def days_inside(window: Window) -> list[int]:
    """The working days that lie wholly inside the window."""
    days = range(day_of(window.opens) + 1, day_of(window.due))
    return [d for d in days if working(d) and local(d + 1, 0) <= window.due]


def working_time(rng: Random, after: datetime, until: datetime) -> datetime:
    """A moment in working hours in (after, until], to the minute; any moment if none is."""
    spans = []
    for day in range(day_of(after), day_of(until) + 1):
        start, stop = max(after, local(day, 9)), min(until, local(day, 19))
        if working(day) and start < stop:
            spans.append((start, stop))
    if not spans:
        spans = [(after, until)]
    pick = sum((b - a for a, b in spans), timedelta()) * rng.random()
    for start, stop in spans:
        if pick < stop - start or stop == spans[-1][1]:
            return min(start + (pick // MINUTE + 1) * MINUTE, stop)
        pick -= stop - start
    raise AssertionError("unreachable")


# Places


def km_between(a: Position, b: Position) -> float:
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def moved(p: Position, km: float, bearing: float) -> Position:
    north, east = km * math.cos(bearing), km * math.sin(bearing)
    return Position(
        round(p.latitude + north / 111.2, 6),
        round(p.longitude + east / (111.2 * math.cos(math.radians(p.latitude))), 6),
    )


def around(rng: Random, centre: Position, km: float) -> Position:
    """A place uniformly within `km` of `centre`."""
    return moved(centre, km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi))


def gps_fix(rng: Random, where: Position) -> Position | None:
    """What a phone reports there: none 5% of the time (location off or refused), a coarse
    network fix 0.3-3 km off 4%, else a fix within tens of metres."""
    if rng.random() < 0.05:
        return None
    error = rng.uniform(0.3, 3.0) if rng.random() < 0.04 else abs(rng.gauss(0, 0.015))
    return moved(where, error, rng.uniform(0, 2 * math.pi))


def near(order: Order, position: Position | None) -> bool:
    places = [p for p in (order.home, order.work) if p is not None]
    return position is not None and min(km_between(position, p) for p in places) <= NEAR_KM
