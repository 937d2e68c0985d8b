"""Falsification detectors: named rules that look at one recorded visit report in its context.

A rule finds a report suspicious for a reason a supervisor can read: which report, how
strongly it points to a forgery (`Strength`), and evidence in plain words. The rules on one
report (here) judge the report examined; the rules on several (`orders.patterns`: a batch,
a journey, one place) may also flag the earlier reports of the pattern the examined one
completes. Delay alone proves nothing: what tells a backfill from a late report is whether
the report shows the inspector was there (`presence`). Thresholds come from the policy;
decision 018 says why each is what it is. The rules are pure: the order is given as it stood
once the report was recorded, the inspector's other reports as logged before it, so a
finding never depends on when the detectors ran.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from orders import patterns
from orders.domain import ProtectionOrder
from orders.evidence import Context, Found, Presence, Report, Shown, at, hours, nearest_km
from orders.policy import DetectorRules
from orders.presence import Verdict
from orders.values import Strength, Visit, VisitOutcome

Rule = Callable[[Report, Context], list[Found]]


def presence(visit: Visit, order: ProtectionOrder, rules: DetectorRules) -> Presence:
    """What in the report shows the inspector was with the protected persons: a code of hers
    that proved the visit (decision 019), else where his phone placed him against their known
    locations.

    The one place that weighs proof of presence. Only a code that proved the visit counts
    (one that did not is `code_not_hers`'s). A code was expected if she had been enrolled by
    the time the visit claims (or the policy expects codes everywhere): then a position near
    her, which a mock-location app fakes, proves nothing alone.
    """
    km = nearest_km(visit.position, order)
    expected = rules.codes_expected or any(p.enrolled_at <= visit.visited_at for p in order.proofs)
    if visit.proof is not None and visit.proof.verdict is Verdict.PROVEN:
        return Presence(Shown.CODE, km, proven=True, code_expected=expected)
    if visit.position is None:
        return Presence(Shown.NONE, code_expected=expected)
    if km is None:
        return Presence(Shown.UNPLACED, code_expected=expected)
    if km <= rules.near_location_km:
        return Presence(Shown.NEAR, km, proven=not expected, code_expected=expected)
    return Presence(Shown.FAR, km, code_expected=expected)


def cover_up(report: Report, context: Context) -> list[Found]:
    """Filed after the missed check-in of the window it claims was recorded, with nothing to
    show the inspector was there: a visit made up to cover an alert."""
    if report.presence.proven:
        return []
    claimed = report.claimed_at
    for alert in context.order.scrutiny.alerts:
        if alert.recorded_at < report.recorded_at and alert.opened_at < claimed <= alert.due_at:
            evidence = (
                f"filed {hours(report.recorded_at - alert.recorded_at)} after the missed "
                f"check-in of the window due {at(alert.due_at)} was recorded, claiming a visit "
                f"in that window at {at(claimed)}, with {report.presence}"
            )
            return [Found(report, Strength.STRONG, evidence)]
    return []


def claims_before_incident(report: Report, context: Context) -> list[Found]:
    """Filed after a breach, escalation or death was reported, claiming an unproven visit
    before it."""
    if report.presence.proven:
        return []
    claimed = report.claimed_at
    for incident in context.order.scrutiny.incidents:
        if incident.recorded_at < report.recorded_at and claimed < incident.occurred_at:
            evidence = (
                f"filed after the {incident.kind} of {at(incident.occurred_at)} was reported "
                f"(at {at(incident.recorded_at)}), claiming a visit before it, at {at(claimed)}, "
                f"with {report.presence}"
            )
            return [Found(report, Strength.STRONG, evidence)]
    return []


def no_proof(report: Report, context: Context) -> list[Found]:
    """A visit said to have met the protected person, who could have given a code, with no
    code from her: a position, which a mock-location app fakes, proves nothing alone."""
    shown = report.presence
    if (
        not shown.code_expected
        or shown.proven
        or report.visit.outcome is VisitOutcome.PERSON_NOT_FOUND
    ):
        return []
    evidence = f"a visit said to have met the protected person, with {shown} but no code from her"
    if shown.shown is Shown.NONE:
        evidence = f"a visit said to have met the protected person, with {shown}"
    return [Found(report, Strength.MODERATE, evidence)]


def code_not_hers(report: Report, context: Context) -> list[Found]:
    """A code given with the report that does not prove it: none of hers, given before, from a
    secret replaced before the visit, or made at another time than the visit claims."""
    proof = report.visit.proof
    if proof is None or not proof.verdict.is_finding:
        return []
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
    return [Found(report, Strength.STRONG, f"the code given {said}{when}")]


RULES: dict[str, Rule] = {
    "code_not_hers": code_not_hers,
    "cover_up": cover_up,
    "claims_before_incident": claims_before_incident,
    "no_proof": no_proof,
    "impossible_travel": patterns.impossible_travel,
    "batch_entry": patterns.batch_entry,
    "one_place": patterns.one_place,
    "without_position": patterns.without_position,
}


def examine(report: Report, context: Context) -> list[tuple[str, Found]]:
    """Every rule's findings, as (rule, finding): about the report, and about the earlier
    reports of a pattern it completes; one per rule and report."""
    findings: dict[tuple[str, UUID, int], tuple[str, Found]] = {}
    for name, rule in RULES.items():
        for found in rule(report, context):
            findings.setdefault((name, found.report.order_id, found.report.version), (name, found))
    return list(findings.values())
