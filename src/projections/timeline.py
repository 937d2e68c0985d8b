"""Every event of every order, in log order: who, what, the time claimed and the time recorded.

Summaries name what happened without sensitive content: no names, narratives, notes,
reasons, addresses or positions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import singledispatch
from typing import Any
from uuid import UUID

from orders import events
from projections.database import Row, Transaction, ViewDatabase, iso, parse_iso, text
from projections.follower import View


class TimelineView(View):
    """Projects each event onto one timeline row, keyed by its position in the log."""

    name = "timeline"
    accepts = (events.Event, events.Requested)
    tables = (
        "CREATE TABLE IF NOT EXISTS timeline ("
        "position BIGINT PRIMARY KEY, order_id TEXT NOT NULL, version INTEGER NOT NULL, "
        "event_type TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL, "
        "claimed_at TEXT, recorded_at TEXT NOT NULL, summary TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS timeline_order ON timeline (order_id, position)",
    )

    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        tx.execute(
            "INSERT INTO timeline (position, order_id, version, event_type, actor_id, actor_role, "
            "claimed_at, recorded_at, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                position,
                text(event.originator_id),
                event.originator_version,
                type(event).__name__,
                event.actor.id,
                event.actor.role,
                iso(claimed_time(event)),
                iso(event.timestamp),
                summary(event),
            ),
        )


def claimed_time(event: Any) -> datetime | None:
    """The time a person claims for what the event records, if it has one."""
    if isinstance(event, events.InspectionVisitRecorded):
        return event.visit.visited_at
    if isinstance(event, events.Served):
        return event.served_at
    if isinstance(event, events.BreachResponded):
        return event.responded_at
    if isinstance(event, events.Requested):
        return event.request.incident_at
    if isinstance(event, events.BreachReported):
        return event.breach.occurred_at
    if isinstance(event, events.ProtectedPersonDied):
        return event.died_at
    return None


@singledispatch
def summary(event: Any) -> str:
    return type(event).__name__


@summary.register
def _(event: events.Requested) -> str:
    r = event.request
    kinds = ", ".join(r.violence_types)
    return (
        f"requested via {r.channel} in {r.district}; {len(r.protected_persons)} protected "
        f"person(s); violence: {kinds}; firearms access: {r.firearms_access}"
    )


@summary.register
def _(event: events.RiskAssessed) -> str:
    return (
        f"risk computed {event.computed_level}, final {event.final_level} "
        f"({event.instrument}, policy {event.policy_version})"
    )


@summary.register
def _(event: events.Issued) -> str:
    t = event.terms
    return (
        f"{t.kind} order issued, valid {iso(t.valid_from)} to {iso(t.valid_until)}; "
        f"{_cadence(event.check_ins.every)}; inspector {t.inspector_id}"
    )


@summary.register
def _(event: events.Served) -> str:
    return f"served on the respondent ({event.method})"


@summary.register
def _(event: events.InspectionVisitRecorded) -> str:
    v = event.visit
    proof = f"code {v.proof.verdict}" if v.proof else "position" if v.position else "none"
    if event.window is not None:
        meets = f"meets window {event.window}"
    elif event.late:
        claimed = "" if event.claimed_window is None else f" for window {event.claimed_window}"
        meets = f"late{claimed}: meets no window"
    else:
        meets = "in no check-in window"
    return f"inspection visit: {v.outcome}; proof: {proof}; {meets}"


@summary.register
def _(event: events.CheckInMissed) -> str:
    return f"check-in window {event.window} due {iso(event.due_at)} missed"


@summary.register
def _(event: events.BreachReported) -> str:
    b = event.breach
    return f"breach {b.breach_id} reported ({'enforceable' if b.enforceable else 'before service'})"


@summary.register
def _(event: events.BreachResponded) -> str:
    return f"breach {event.breach_id} answered: {event.response}"


@summary.register
def _(event: events.Escalated) -> str:
    return f"escalation {event.escalation.escalation_id} to {event.escalation.target}"


@summary.register
def _(event: events.EscalationAcknowledged) -> str:
    return f"escalation {event.escalation_id} acknowledged"


@summary.register
def _(event: events.Extended) -> str:
    return f"extended until {iso(event.valid_until)} (policy {event.policy_version})"


@summary.register
def _(event: events.Modified) -> str:
    return (
        f"modified: conditions {', '.join(event.conditions)}; "
        f"{len(event.protected_person_ids)} person(s) covered"
    )


@summary.register
def _(event: events.Revoked) -> str:
    return "revoked"


@summary.register
def _(event: events.ProtectedPersonDied) -> str:
    return f"death of protected person {event.person_id} reported"


@summary.register
def _(event: events.ReportFlagged) -> str:
    f = event.finding
    return f"event {f.flagged_version} flagged by rule {f.rule} ({f.strength}): {f.evidence}"


@summary.register
def _(event: events.FindingReviewed) -> str:
    return f"finding {event.finding_id} {event.decision}"


@summary.register
def _(event: events.Expired) -> str:
    return f"expired at {iso(event.valid_until)}"


@summary.register
def _(event: events.AlertRaised) -> str:
    return (
        f"{_kind(event.kind)} alert {event.alert_id} raised (fell due {iso(event.due_at)}): "
        f"tells the {event.addressee}, to be acknowledged by {iso(event.acknowledge_by)}"
    )


@summary.register
def _(event: events.AlertClimbed) -> str:
    return (
        f"{_kind(event.kind)} alert {event.alert_id} unacknowledged: climbed to rung "
        f"{event.rung + 1}, the {event.addressee}, to be acknowledged by "
        f"{iso(event.acknowledge_by)}"
    )


@summary.register
def _(event: events.AlertAcknowledged) -> str:
    return f"{_kind(event.kind)} alert {event.alert_id} acknowledged by the {event.actor.role}"


@summary.register
def _(event: events.AlertResolved) -> str:
    return f"{_kind(event.kind)} alert {event.alert_id} resolved: {event.reason}"


@summary.register
def _(event: events.ExpiryApproaching) -> str:
    return f"ends at {iso(event.valid_until)}: those who asked to be told are told"


@summary.register
def _(event: events.PresenceProofEnrolled) -> str:
    proof = event.proof
    return (
        f"protected person {proof.person_id} was given codes to prove visits ({proof.kind}, "
        f"proof {proof.proof_id}); any earlier one is revoked"
    )


@summary.register
def _(event: events.ContactRegistered) -> str:
    contact = event.contact
    return (
        f"protected person {contact.person_id} consented to be told by {contact.channel} "
        f"(contact {contact.contact_id})"
    )


@summary.register
def _(event: events.ContactWithdrawn) -> str:
    return f"contact {event.contact_id} withdrawn: nothing more is sent to it"


@summary.register
def _(event: events.RiskLoweringProposed) -> str:
    return (
        f"reassessed with {event.instrument}: computed {event.computed_level}, final "
        f"{event.final_level}, lower than {event.in_force} in force: proposal "
        f"{event.proposal_id} awaits a second supervisor; {event.in_force} stays in force"
    )


@summary.register
def _(event: events.RiskLoweringApproved) -> str:
    return f"lowering {event.proposal_id} approved: {event.final_level} in force from now"


@summary.register
def _(event: events.RiskLoweringRejected) -> str:
    return f"lowering {event.proposal_id} rejected: the level in force stays"


def _kind(kind: str) -> str:
    return kind.replace("_", " ")


def _cadence(every: timedelta | None) -> str:
    return "no required check-ins" if every is None else f"check-ins every {_hours(every)}"


def _hours(span: timedelta) -> str:
    hours = span / timedelta(hours=1)
    return f"{hours:g} h" if hours < 72 or hours % 24 else f"{hours / 24:g} days"


class Timelines:
    """Queries over the timeline view."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def of(self, order_id: UUID, *, as_of: datetime | None = None) -> list[Row]:
        """The order's events in log order; with `as_of`, only those recorded by then."""
        sql = "SELECT * FROM timeline WHERE order_id = ?"
        params: list[str | None] = [str(order_id)]
        if as_of is not None:
            sql += " AND recorded_at <= ?"
            params.append(iso(as_of))
        rows = self.db.query(sql + " ORDER BY position", params)
        for row in rows:
            row["claimed_at"] = parse_iso(row["claimed_at"])
            row["recorded_at"] = parse_iso(row["recorded_at"])
        return rows

    def reports_near(
        self,
        inspector_id: str,
        *,
        before: int,
        claimed: tuple[datetime, datetime],
        recorded: tuple[datetime, datetime],
    ) -> list[tuple[UUID, int]]:
        """The inspector's visit reports logged before position `before`, claimed or
        recorded within the given spans, as (order id, version)."""
        rows = self.db.query(
            "SELECT order_id, version FROM timeline WHERE actor_id = ? AND "
            "event_type = 'InspectionVisitRecorded' AND position < ? AND "
            "((claimed_at BETWEEN ? AND ?) OR (recorded_at BETWEEN ? AND ?))",
            (inspector_id, before, *map(iso, claimed), *map(iso, recorded)),
        )
        return [(UUID(row["order_id"]), int(row["version"])) for row in rows]
