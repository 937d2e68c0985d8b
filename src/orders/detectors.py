"""Falsification detectors: named rules that look at one recorded visit report in its context.

Each rule returns evidence (a sentence with times, distances and counts, never an address, a
position or a narrative) or None. Thresholds come from the policy. The rules are pure: the
order is given as it stood once the report was recorded, the inspector's other reports as
found in the log.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from orders.domain import ProtectionOrder
from orders.policy import DetectorRules
from orders.presence import Verdict
from orders.values import Position, RiskLevel, Visit


@dataclass(frozen=True)
class Report:
    """One recorded visit report: who filed it, what it claims, when it was recorded."""

    order_id: UUID
    version: int
    inspector_id: str
    visit: Visit
    recorded_at: datetime


@dataclass(frozen=True)
class Context:
    """What a rule may look at besides the report itself."""

    order: ProtectionOrder  # as it stood once the report was recorded
    others: list[Report]  # the same inspector's other visit reports, on any order
    rules: DetectorRules


Rule = Callable[[Report, Context], str | None]


def _hours(span: timedelta) -> str:
    return f"{span / timedelta(hours=1):.1f} h"


def backdated(report: Report, context: Context) -> str | None:
    delay = report.recorded_at - report.visit.visited_at
    if delay <= context.rules.backdated_after:
        return None
    return (
        f"recorded {_hours(delay)} after the visit time it claims "
        f"(threshold {_hours(context.rules.backdated_after)})"
    )


def claims_alerted_window(report: Report, context: Context) -> str | None:
    claimed = report.visit.visited_at
    for alert in context.order.scrutiny.alerts:
        if alert.recorded_at < report.recorded_at and alert.opened_at < claimed <= alert.due_at:
            return (
                f"claims a visit at {claimed.isoformat()} inside the window due "
                f"{alert.due_at.isoformat()}, whose missed check-in was recorded at "
                f"{alert.recorded_at.isoformat()}, before this report"
            )
    return None


def claims_before_incident(report: Report, context: Context) -> str | None:
    claimed = report.visit.visited_at
    for incident in context.order.scrutiny.incidents:
        if incident.recorded_at < report.recorded_at and claimed < incident.occurred_at:
            return (
                f"recorded after the {incident.kind} of {incident.occurred_at.isoformat()} was "
                f"reported (at {incident.recorded_at.isoformat()}), yet claims a visit before "
                f"it, at {claimed.isoformat()}"
            )
    return None


def no_proof_on_high_threat(report: Report, context: Context) -> str | None:
    level = context.order.risk_level
    if level not in (RiskLevel.HIGH, RiskLevel.EXTREME):
        return None
    proof = report.visit.proof
    if (proof is not None and proof.verdict is Verdict.PROVEN) or report.visit.position:
        return None
    return f"a visit on a {level}-threat order with no code from the person and no position"


def code_not_hers(report: Report, context: Context) -> str | None:
    """A code given with the report that does not prove it: not hers, given before, from a
    secret replaced before the visit, or made at another time than the visit claimed."""
    proof = report.visit.proof
    if proof is None or not proof.verdict.is_finding:
        return None
    said = {
        Verdict.WRONG: "is none of the protected person's codes",
        Verdict.REUSED: "was already given for another visit",
        Verdict.REVOKED: "comes from a secret replaced before the visit it claims",
        Verdict.OUT_OF_TIME: "was made at another time than the visit it claims",
    }[proof.verdict]
    when = ""
    if proof.verdict is Verdict.OUT_OF_TIME and proof.offset_minutes is not None:
        side = "after" if proof.offset_minutes > 0 else "before"
        when = f" ({abs(proof.offset_minutes) / 60:.1f} h {side})"
    return f"the code given {said}{when}"


def far_from_protected_location(report: Report, context: Context) -> str | None:
    if report.visit.position is None:
        return None
    known = [
        loc.position
        for person in context.order.request.protected_persons
        for loc in person.locations
        if loc.position is not None
    ]
    if not known:
        return None
    nearest = min(distance_km(report.visit.position, p) for p in known)
    if nearest <= context.rules.far_from_location_km:
        return None
    return (
        f"the visit's position is {nearest:.1f} km from the nearest known location of "
        f"the protected persons (threshold {context.rules.far_from_location_km:g} km)"
    )


def impossible_travel(report: Report, context: Context) -> str | None:
    here = report.visit.position
    if here is None:
        return None
    for other in context.others:
        there = other.visit.position
        if there is None:
            continue
        hours = abs(report.visit.visited_at - other.visit.visited_at) / timedelta(hours=1)
        km = distance_km(here, there)
        if km / max(hours, 1 / 60) > context.rules.max_speed_kmh:
            return (
                f"{km:.1f} km from the same inspector's visit on order {other.order_id} "
                f"claimed {hours * 60:.0f} min apart (limit "
                f"{context.rules.max_speed_kmh:g} km/h)"
            )
    return None


def batch_entry(report: Report, context: Context) -> str | None:
    window = context.rules.batch_window
    recent = [
        o
        for o in context.others
        if report.recorded_at - window <= o.recorded_at <= report.recorded_at
    ]
    count = len(recent) + 1
    if count < context.rules.batch_count:
        return None
    return (
        f"{count} visit reports recorded by this inspector within "
        f"{window / timedelta(minutes=1):g} minutes"
    )


RULES: dict[str, Rule] = {
    "backdated": backdated,
    "claims_alerted_window": claims_alerted_window,
    "claims_before_incident": claims_before_incident,
    "no_proof_on_high_threat": no_proof_on_high_threat,
    "code_not_hers": code_not_hers,
    "far_from_protected_location": far_from_protected_location,
    "impossible_travel": impossible_travel,
    "batch_entry": batch_entry,
}


def examine(report: Report, context: Context) -> list[tuple[str, str]]:
    """Every rule's finding about the report, as (rule, evidence)."""
    found = ((name, rule(report, context)) for name, rule in RULES.items())
    return [(name, evidence) for name, evidence in found if evidence is not None]


def distance_km(a: Position, b: Position) -> float:
    """Great-circle distance (haversine) on a sphere of the Earth's mean radius."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))
