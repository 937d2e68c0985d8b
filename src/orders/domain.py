"""The protection order aggregate: its commands decide, its events (orders.events) remember.

Each command checks the rules of the order's life and works out the results, then triggers
one event carrying them, so nothing downstream recalculates a rule under a later policy.
Times come in as arguments: the recorded time `at` from the application's clock, claimed
times from the caller. A refused command raises a named error and triggers nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from orders import errors, events, guards
from orders.alerting import REASSESSMENT, RISK, AlertKind, Duties
from orders.checkins import CheckIns
from orders.incidents import IncidentDecisions
from orders.lowering import LoweringDecisions
from orders.policy import Policy
from orders.proving import PresenceDecisions
from orders.snapshots import OrderSnapshot
from orders.state import OrderState
from orders.values import (
    Actor,
    Condition,
    Request,
    RiskLevel,
    ServiceMethod,
    Status,
    Terms,
    Visit,
)


class ProtectionOrder(
    IncidentDecisions, LoweringDecisions, PresenceDecisions, OrderState, Aggregate
):
    """A protection order, from the request until it ends; what it keeps is orders.state."""

    # Its events (orders.events), named as parts of the order
    Event = events.Event
    SetsDeadlines = events.SetsDeadlines
    Requested = events.Requested
    RiskAssessed = events.RiskAssessed
    Issued = events.Issued
    Served = events.Served
    InspectionVisitRecorded = events.InspectionVisitRecorded
    CheckInMissed = events.CheckInMissed
    ProtectedPersonDied = events.ProtectedPersonDied
    ReportFlagged = events.ReportFlagged
    FindingReviewed = events.FindingReviewed
    BreachReported = events.BreachReported
    BreachResponded = events.BreachResponded
    Escalated = events.Escalated
    EscalationAcknowledged = events.EscalationAcknowledged
    Extended = events.Extended
    Modified = events.Modified
    Revoked = events.Revoked
    Expired = events.Expired
    AlertRaised = events.AlertRaised
    AlertClimbed = events.AlertClimbed
    AlertAcknowledged = events.AlertAcknowledged
    AlertResolved = events.AlertResolved
    ExpiryApproaching = events.ExpiryApproaching
    ContactRegistered = events.ContactRegistered
    ContactWithdrawn = events.ContactWithdrawn
    RiskLoweringProposed = events.RiskLoweringProposed
    RiskLoweringApproved = events.RiskLoweringApproved
    RiskLoweringRejected = events.RiskLoweringRejected
    PresenceProofEnrolled = events.PresenceProofEnrolled
    Snapshot = OrderSnapshot  # its state at one version (orders.snapshots)

    def __init__(self, actor: Actor, request: Request) -> None:
        self._as_requested(actor, request)

    # Queries

    @property
    def issued_terms(self) -> Terms:
        if self.terms is None:
            raise errors.OrderNotInForce("the order has not been issued")
        return self.terms

    @property
    def scheduled(self) -> CheckIns:
        """The order's check-in windows; only an issued order has them."""
        if self.check_ins is None:
            raise errors.OrderNotInForce("the order has not been issued")
        return self.check_ins

    @property
    def person_ids(self) -> set[str]:
        return {p.person_id for p in self.request.protected_persons}

    def _reportable(self, claimed: datetime, at: datetime, policy: Policy) -> CheckIns:
        """The check-ins a report claiming `claimed`, recorded `at`, is weighed against: it must
        claim a time in the order's validity, and an order that ended takes reports only for
        the policy's reporting period after its end."""
        check_ins = self.scheduled
        guards.within(self.issued_terms, claimed, field="visited_at", ended_at=self.ended_at)
        until = check_ins.ends_at + policy.late_report_period
        if at > until:
            raise errors.ReportingPeriodOver(self.id, until=until)
        return check_ins

    def _in_force_at(self, at: datetime, *, field: str) -> Terms:
        if self.status is not Status.ISSUED:
            raise errors.OrderNotInForce(f"the order is {self.status}, not in force")
        guards.within(self.issued_terms, at, field=field)
        return self.issued_terms

    def _deadlines(
        self, check_ins: CheckIns | None = None, duties: Duties | None = None
    ) -> dict[str, datetime | None]:
        """The deadlines an event carries: the pending check-in's due time and deadline (as
        `check_ins` decides, else as they stand) and when a duty next falls due."""
        found = check_ins or self.check_ins
        next_duty = (duties or self.duties).next_at
        if found is None:
            return {"check_in_due": None, "check_in_deadline": None, "duty_due": next_duty}
        return {
            "check_in_due": found.due,
            "check_in_deadline": found.deadline,
            "duty_due": next_duty,
        }

    # Commands

    @classmethod
    def open(cls, request: Request, *, by: Actor, at: datetime, policy: Policy) -> ProtectionOrder:
        guards.not_in_future(request.incident_at, at, policy, field="incident_at")
        ids = [p.person_id for p in request.protected_persons]
        if len(set(ids)) != len(ids):
            raise errors.InvalidInput("protected_persons", "person ids must be distinct")
        return cls._create(cls.Requested, id=uuid4(), timestamp=at, actor=by, request=request)

    def assess_risk(
        self,
        answers: dict[str, bool],
        *,
        final_level: RiskLevel | None,
        reason: str,
        by: Actor,
        at: datetime,
        policy: Policy,
    ) -> None:
        if self.status in (Status.EXPIRED, Status.REVOKED):
            raise errors.OrderNotInForce(f"the order is {self.status}")
        instrument = policy.risk_instrument
        unknown = set(answers) - set(instrument.questions)
        if unknown:
            raise errors.InvalidInput(
                "answers",
                f"asks what {instrument.name} does not; its questions are "
                f"{', '.join(instrument.questions)}",
            )
        computed = instrument.level_for(answers)
        final = computed if final_level is None else final_level
        if final.rank < computed.rank:
            raise errors.RiskLevelLowered(
                "final_level", f"may raise the computed level ({computed}), never lower it"
            )
        if final.rank > computed.rank and not reason.strip():
            raise errors.InvalidInput(
                "reason", f"required when raising the computed level ({computed})"
            )
        assessment = {
            "instrument": instrument.name,
            "answers": dict(answers),
            "computed_level": computed,
            "final_level": final,
            "reason": reason,
            "policy_version": policy.version,
        }
        if self._lowers(final):
            self.propose_lowering(assessment, by=by, at=at, policy=policy)
            return
        tighter, reassess_by = None, None
        if self.status is Status.ISSUED and self.check_ins is not None:
            tighter = self.check_ins.tightened(policy.check_in_every[final], at=at)
            reassess_by = at + policy.reassess_every[final]
        self.resolve_alerts(REASSESSMENT, RISK, reason="the risk was reassessed", by=by, at=at)
        self.trigger_event(
            self.RiskAssessed,
            timestamp=at,
            actor=by,
            **assessment,
            check_ins=tighter,
            reassess_by=reassess_by,
            **self._deadlines(tighter, self.duties.reassessed(reassess_by)),
        )

    def issue(self, terms: Terms, *, by: Actor, at: datetime, policy: Policy) -> None:
        if self.status is not Status.REQUESTED:
            raise errors.OrderAlreadyIssued(f"the order is already {self.status}")
        if self.risk_level is None:
            raise errors.RiskNotAssessed("the order needs a risk assessment before issue")
        guards.not_in_future(terms.valid_from, at, policy, field="valid_from")
        guards.protects_someone_requested(terms.protected_person_ids, self.person_ids)
        valid_until = guards.validity(terms, policy)
        check_ins = CheckIns.starting(
            terms.valid_from,
            every=policy.check_in_every[self.risk_level],
            grace=policy.check_in_grace,
            ends_at=valid_until,
            at_end=policy.check_in_at_end,
        )
        assert self.last_assessed_at is not None
        # A stale assessment falls due at issue, not in the past: its alert climbs from now.
        reassess_by = max(self.last_assessed_at + policy.reassess_every[self.risk_level], at)
        notify_expiry_at = _notice_before(valid_until, at, policy)
        self.trigger_event(
            self.Issued,
            timestamp=at,
            actor=by,
            terms=terms.with_valid_until(valid_until),
            policy_version=policy.version,
            check_ins=check_ins,
            reassess_by=reassess_by,
            notify_expiry_at=notify_expiry_at,
            **self._deadlines(check_ins, self.duties.issued(reassess_by, notify_expiry_at)),
        )

    def serve(
        self,
        *,
        served_at: datetime,
        method: ServiceMethod,
        notes: str,
        by: Actor,
        at: datetime,
        policy: Policy,
    ) -> None:
        guards.not_in_future(served_at, at, policy, field="served_at")
        self._in_force_at(served_at, field="served_at")
        if self.served_at is not None:
            raise errors.OrderAlreadyServed(f"the order was served at {self.served_at}")
        self.trigger_event(
            self.Served, timestamp=at, actor=by, served_at=served_at, method=method, notes=notes
        )

    def record_visit(
        self,
        visit: Visit,
        *,
        code: str | None = None,
        secrets: Mapping[UUID, str] | None = None,
        by: Actor,
        at: datetime,
        policy: Policy,
    ) -> None:
        """Record a report of a visit: it meets the window its claimed time lies in if recorded
        by that window's deadline; recorded later, it is kept and counted late. The code she
        gave, if any, is checked against the claimed time; only the verdict is kept."""
        guards.not_in_future(visit.visited_at, at, policy, field="visited_at")
        guards.met_persons_requested(visit.met_with, self.person_ids)
        check_ins = self._reportable(visit.visited_at, at, policy)
        proof = self.prove(code, visit.visited_at, secrets or {}, policy, at=at)
        visit = replace(visit, proof=proof)
        window = check_ins.counts_for(visit.visited_at, at)
        self.trigger_event(
            self.InspectionVisitRecorded,
            timestamp=at,
            actor=by,
            visit=visit,
            window=window,
            claimed_window=check_ins.window_containing(visit.visited_at),
            late=check_ins.is_late(visit.visited_at, at),
            **self._deadlines(check_ins if window is None else check_ins.cover(window)),
        )

    def record_missed_check_in(self, *, by: Actor, at: datetime, policy: Policy) -> None:
        """Record the earliest window whose deadline passed with no report for it, and raise
        its alert."""
        missed = None if self.check_ins is None else self.check_ins.missed_at(at)
        if missed is None:
            raise errors.CheckInNotOverdue(f"the order has no overdue check-in at {at}")
        self.trigger_event(
            self.CheckInMissed,
            timestamp=at,
            actor=by,
            window=missed.window,
            window_opened_at=missed.opened_at,
            due_at=missed.due_at,
            deadline=missed.deadline,
            **self._deadlines(self.scheduled.cover(missed.window)),
        )
        self.raise_alert(
            AlertKind.MISSED_CHECK_IN,
            f"window {missed.window}",
            due_at=missed.deadline,
            by=by,
            at=at,
            policy=policy,
        )

    def extend(
        self, *, valid_until: datetime, reason: str, by: Actor, at: datetime, policy: Policy
    ) -> None:
        terms = self._in_force_at(at, field="valid_until")
        assert terms.valid_until is not None
        if valid_until <= terms.valid_until:
            raise errors.InvalidInput("valid_until", f"must be later than {terms.valid_until}")
        guards.runs_at_most(terms, valid_until, policy)
        check_ins = self.scheduled.ending_at(valid_until)
        notify_expiry_at = _notice_before(valid_until, at, policy)
        self.trigger_event(
            self.Extended,
            timestamp=at,
            actor=by,
            valid_until=valid_until,
            reason=reason,
            policy_version=policy.version,
            check_ins=check_ins,
            notify_expiry_at=notify_expiry_at,
            **self._deadlines(check_ins, self.duties.extended(notify_expiry_at)),
        )

    def modify(
        self,
        *,
        conditions: tuple[Condition, ...],
        other_conditions: tuple[str, ...],
        protected_person_ids: tuple[str, ...],
        reason: str,
        by: Actor,
        at: datetime,
    ) -> None:
        self._in_force_at(at, field="order")
        guards.protects_someone_requested(protected_person_ids, self.person_ids)
        guards.says_why(reason, "a modification")
        self.trigger_event(
            self.Modified,
            timestamp=at,
            actor=by,
            conditions=conditions,
            other_conditions=other_conditions,
            protected_person_ids=protected_person_ids,
            reason=reason,
        )

    def revoke(self, *, reason: str, by: Actor, at: datetime) -> None:
        self._in_force_at(at, field="order")
        guards.says_why(reason, "a revocation")
        check_ins = self.scheduled.ending_at(at)
        self.trigger_event(
            self.Revoked,
            timestamp=at,
            actor=by,
            reason=reason,
            check_ins=check_ins,
            **self._deadlines(check_ins, self.duties.ended()),
        )

    def expire(self, *, by: Actor, at: datetime) -> None:
        terms = self.issued_terms
        if self.status is not Status.ISSUED or terms.valid_until is None or at < terms.valid_until:
            raise errors.OrderNotDueToExpire(f"the order is not due to expire at {at}")
        self.trigger_event(
            self.Expired,
            timestamp=at,
            actor=by,
            valid_until=terms.valid_until,
            **self._deadlines(duties=self.duties.ended()),
        )


def _notice_before(valid_until: datetime, at: datetime, policy: Policy) -> datetime | None:
    """When to tell those who asked that an order ending at `valid_until` ends soon; None when
    that moment has already passed."""
    notice = valid_until - policy.expiry_notice_before
    return notice if notice > at else None
