"""What the falsification detectors weigh: a recorded visit report, what shows the inspector
was with the protected persons, the report's context, and what a rule finds.

Evidence is written to be read by a supervisor: times, distances, counts and ids, never an
address, a position, a code or a narrative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from orders.domain import ProtectionOrder
from orders.policy import DetectorRules
from orders.values import Position, Strength, Visit


class Shown(StrEnum):
    """What a report offers as evidence of presence, best first."""

    CODE = "code"  # a code from the protected person
    NEAR = "near"  # a position near one of her known locations
    FAR = "far"  # a position near none of them
    UNPLACED = "unplaced"  # a position, but no known location of hers to compare it with
    NONE = "none"  # no code and no position


@dataclass(frozen=True)
class Presence:
    """A report's evidence that the inspector was with the protected persons."""

    shown: Shown
    km: float | None = None  # from their nearest known location, where both are known
    proven: bool = False  # whether it shows the inspector there
    code_expected: bool = False  # whether she could have given a code that proves it

    def __str__(self) -> str:
        if self.shown is Shown.CODE:
            return "a code from the protected person"
        if self.km is not None:
            return f"a position {self.km:.1f} km from the protected persons' nearest known location"
        if self.shown is Shown.UNPLACED:
            return "a position, but no known location of the protected persons to compare it with"
        return "no code from the protected person and no position"


@dataclass(frozen=True)
class Report:
    """One recorded visit report: who filed it, what it claims, when it was recorded, and what
    it shows of the inspector's presence (judged against its order as it then stood)."""

    order_id: UUID
    version: int
    inspector_id: str
    visit: Visit
    recorded_at: datetime
    presence: Presence

    @property
    def claimed_at(self) -> datetime:
        return self.visit.visited_at

    @property
    def delay(self) -> timedelta:
        """How long after the visit it claims the report was recorded."""
        return self.recorded_at - self.visit.visited_at

    @property
    def name(self) -> str:
        return f"order {self.order_id} event {self.version}"


@dataclass(frozen=True)
class Context:
    """What a rule may look at besides the report itself."""

    order: ProtectionOrder  # as it stood once the report was recorded
    others: list[Report]  # the same inspector's reports logged before this one, on any order
    rules: DetectorRules


@dataclass(frozen=True)
class Found:
    """A rule's finding about one report: how strongly it points to a forgery, and why."""

    report: Report
    strength: Strength
    evidence: str


def distance_km(a: Position, b: Position) -> float:
    """Great-circle distance (haversine) on a sphere of the Earth's mean radius."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def nearest_km(position: Position | None, order: ProtectionOrder) -> float | None:
    """How far `position` is from the nearest known location of the order's protected persons;
    None without a position or a known location."""
    known = [
        location.position
        for person in order.request.protected_persons
        for location in person.locations
        if location.position is not None
    ]
    if position is None or not known:
        return None
    return min(distance_km(position, p) for p in known)


def hours(span: timedelta) -> str:
    return f"{span / timedelta(hours=1):.1f} h"


def minutes(span: timedelta) -> str:
    return f"{span / timedelta(minutes=1):.0f} min"


def days(span: timedelta) -> str:
    return f"{span / timedelta(days=1):.1f} days"


def at(moment: datetime) -> str:
    """A moment as evidence shows it: to the minute, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
