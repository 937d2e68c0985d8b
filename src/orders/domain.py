"""The protection order aggregate: its commands decide, its events remember.

Commands check the rules and work out results; each event's `apply` only assigns state,
because it runs again every time the order is loaded. The event's `timestamp` is the time the
service recorded it (from the injected clock, never from a client); claimed times are fields
of their own. Event classes are the stored schema: never rename or move one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import uuid4

from eventsourcing.domain import Aggregate

from orders import errors
from orders.policy import Policy
from orders.schedule import CheckInSchedule
from orders.values import (
    Actor,
    Breach,
    BreachResponseKind,
    Condition,
    Decision,
    Escalation,
    EscalationTarget,
    Finding,
    Request,
    RiskLevel,
    ServiceMethod,
    Status,
    Terms,
    Visit,
)


class ProtectionOrder(Aggregate):
    """A protection order, from the request until it ends."""

    class Event(Aggregate.Event):
        actor: Actor

    class Requested(Aggregate.Created):
        actor: Actor
        request: Request

    class RiskAssessed(Event):
        instrument: str
        answers: dict[str, bool]
        computed_level: RiskLevel
        final_level: RiskLevel
        reason: str
        policy_version: str
        schedule: CheckInSchedule | None
        check_in_due: datetime | None

        def apply(self, order: ProtectionOrder) -> None:
            order.risk_level = RiskLevel(self.final_level)
            order.last_assessed_at = self.timestamp
            order.needs_reassessment = False
            if self.schedule is not None:
                order.schedule = self.schedule
                order.satisfied_windows = set()

    class Issued(Event):
        terms: Terms
        policy_version: str
        schedule: CheckInSchedule
        check_in_due: datetime | None

        def apply(self, order: ProtectionOrder) -> None:
            order.status = Status.ISSUED
            order.terms = self.terms
            order.schedule = self.schedule

    class Served(Event):
        served_at: datetime
        method: ServiceMethod
        notes: str

        def apply(self, order: ProtectionOrder) -> None:
            order.served_at = self.served_at

    class InspectionVisitRecorded(Event):
        visit: Visit
        window: int  # the window it counts for: the one open when it was recorded
        check_in_due: datetime | None
        claimed_window: int = 0  # the window its claimed time falls in; later means late

        def apply(self, order: ProtectionOrder) -> None:
            order.satisfy(self.window)
            order.visits.append(self.visit)

    class CheckInMissed(Event):
        window: int
        window_opened_at: datetime
        due_at: datetime
        deadline: datetime
        check_in_due: datetime | None

        def apply(self, order: ProtectionOrder) -> None:
            order.satisfy(self.window)
            order.missed_check_ins += 1
            order.alerts.append((self.window_opened_at, self.due_at, self.timestamp))

    class ProtectedPersonDied(Event):
        person_id: str
        died_at: datetime

        def apply(self, order: ProtectionOrder) -> None:
            order.deaths[self.person_id] = (self.died_at, self.timestamp)
            order.incidents.append(("death", self.died_at, self.timestamp))

    class ReportFlagged(Event):
        finding: Finding

        def apply(self, order: ProtectionOrder) -> None:
            order.findings[self.finding.finding_id] = self.finding

    class FindingReviewed(Event):
        finding_id: str
        decision: Decision
        reason: str

        def apply(self, order: ProtectionOrder) -> None:
            finding = order.findings[self.finding_id]
            order.findings[self.finding_id] = replace(finding, decision=Decision(self.decision))

    class BreachReported(Event):
        breach: Breach

        def apply(self, order: ProtectionOrder) -> None:
            order.breaches[self.breach.breach_id] = self.breach
            order.needs_reassessment = True
            order.incidents.append(("breach", self.breach.occurred_at, self.timestamp))

    class BreachResponded(Event):
        breach_id: str
        response: BreachResponseKind
        responded_at: datetime
        notes: str

        def apply(self, order: ProtectionOrder) -> None:
            order.responded_breaches.add(self.breach_id)

    class Escalated(Event):
        escalation: Escalation

        def apply(self, order: ProtectionOrder) -> None:
            order.escalations[self.escalation.escalation_id] = self.escalation
            order.incidents.append(("escalation", self.timestamp, self.timestamp))

    class EscalationAcknowledged(Event):
        escalation_id: str

        def apply(self, order: ProtectionOrder) -> None:
            escalation = order.escalations[self.escalation_id]
            order.escalations[self.escalation_id] = Escalation(
                escalation.escalation_id, escalation.target, escalation.reason, acknowledged=True
            )

    class Extended(Event):
        valid_until: datetime
        reason: str
        policy_version: str
        schedule: CheckInSchedule
        check_in_due: datetime | None

        def apply(self, order: ProtectionOrder) -> None:
            order.terms = order.issued_terms.with_valid_until(self.valid_until)
            order.schedule = self.schedule

    class Modified(Event):
        conditions: tuple[Condition, ...]
        other_conditions: tuple[str, ...]
        protected_person_ids: tuple[str, ...]
        reason: str

        def apply(self, order: ProtectionOrder) -> None:
            order.terms = order.issued_terms.modified(
                self.conditions, self.other_conditions, self.protected_person_ids
            )

    class Revoked(Event):
        reason: str
        schedule: CheckInSchedule
        check_in_due: datetime | None

        def apply(self, order: ProtectionOrder) -> None:
            order.status = Status.REVOKED
            order.ended_at = self.timestamp
            order.schedule = self.schedule

    class Expired(Event):
        valid_until: datetime

        def apply(self, order: ProtectionOrder) -> None:
            order.status = Status.EXPIRED
            order.ended_at = self.valid_until

    def __init__(self, actor: Actor, request: Request) -> None:
        self.requested_by = actor
        self.request = request
        self.status = Status.REQUESTED
        self.risk_level: RiskLevel | None = None
        self.last_assessed_at: datetime | None = None
        self.needs_reassessment = False
        self.terms: Terms | None = None
        self.schedule: CheckInSchedule | None = None
        self.next_window = 1
        self.satisfied_windows: set[int] = set()
        self.missed_check_ins = 0
        self.visits: list[Visit] = []
        self.alerts: list[tuple[datetime, datetime, datetime]] = []  # opened, due, recorded
        self.deaths: dict[str, tuple[datetime, datetime]] = {}  # claimed, recorded
        self.findings: dict[str, Finding] = {}
        self.incidents: list[tuple[str, datetime, datetime]] = []  # kind, occurred, recorded
        self.served_at: datetime | None = None
        self.breaches: dict[str, Breach] = {}
        self.responded_breaches: set[str] = set()
        self.escalations: dict[str, Escalation] = {}
        self.ended_at: datetime | None = None

    # Queries

    @property
    def issued_terms(self) -> Terms:
        if self.terms is None:
            raise errors.OrderNotInForce(f"order {self.id} has not been issued")
        return self.terms

    @property
    def check_in_due(self) -> datetime | None:
        """When the earliest check-in that is neither made nor alerted falls due."""
        return None if self.schedule is None else self.schedule.due(self.next_window)

    def satisfy(self, window: int) -> None:
        """Mark a window as covered (by a timely report or by its alert)."""
        self.satisfied_windows.add(window)
        while self.next_window in self.satisfied_windows:
            self.satisfied_windows.discard(self.next_window)
            self.next_window += 1

    def _after(self, window: int) -> datetime | None:
        """What `check_in_due` will be once `window` is covered."""
        assert self.schedule is not None
        covered = self.satisfied_windows | {window}
        pending = self.next_window
        while pending in covered:
            pending += 1
        return self.schedule.due(pending)

    def _in_force_at(self, at: datetime, *, field: str) -> Terms:
        if self.status is not Status.ISSUED:
            raise errors.OrderNotInForce(f"order {self.id} is {self.status}, not in force")
        terms = self.issued_terms
        assert terms.valid_until is not None
        if not terms.valid_from <= at <= terms.valid_until:
            raise errors.ClaimedTimeOutOfRange(field, "outside the order's period of validity")
        return terms

    # Commands

    @classmethod
    def open(cls, request: Request, *, by: Actor, at: datetime, policy: Policy) -> ProtectionOrder:
        _not_in_future(request.incident_at, at, policy, field="incident_at")
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
            raise errors.OrderNotInForce(f"order {self.id} is {self.status}")
        instrument = policy.risk_instrument
        unknown = set(answers) - set(instrument.questions)
        if unknown:
            raise errors.InvalidInput(
                "answers", f"not questions of {instrument.name}: {sorted(unknown)}"
            )
        computed = instrument.level_for(answers)
        final = computed if final_level is None else final_level
        if final.rank < computed.rank:
            raise errors.RiskLevelLowered(
                "final_level", f"may raise the computed level ({computed}), never lower it"
            )
        if final.rank > computed.rank and not reason.strip():
            raise errors.InvalidInput("reason", f"required when raising {computed} to {final}")
        schedule = self._tightened_schedule(policy.check_in_every[final], at)
        self.trigger_event(
            self.RiskAssessed,
            timestamp=at,
            actor=by,
            instrument=instrument.name,
            answers=dict(answers),
            computed_level=computed,
            final_level=final,
            reason=reason,
            policy_version=policy.version,
            schedule=schedule,
            check_in_due=None if schedule is None else schedule.due(self.next_window),
        )

    def _tightened_schedule(self, every: timedelta, at: datetime) -> CheckInSchedule | None:
        if (
            self.status is not Status.ISSUED
            or self.schedule is None
            or every >= self.schedule.every
        ):
            return None
        return self.schedule.tightened(every=every, pending=self.next_window, at=at)

    def issue(self, terms: Terms, *, by: Actor, at: datetime, policy: Policy) -> None:
        if self.status is not Status.REQUESTED:
            raise errors.OrderAlreadyIssued(f"order {self.id} is already {self.status}")
        if self.risk_level is None:
            raise errors.RiskNotAssessed(f"order {self.id} needs a risk assessment before issue")
        _not_in_future(terms.valid_from, at, policy, field="valid_from")
        requested = {p.person_id for p in self.request.protected_persons}
        _check_persons(terms.protected_person_ids, requested)
        rules = policy.kinds[terms.kind]
        valid_until = terms.valid_until or terms.valid_from + rules.duration
        if valid_until <= terms.valid_from:
            raise errors.InvalidInput("valid_until", "must be after valid_from")
        if valid_until - terms.valid_from > rules.max_duration:
            raise errors.ExtensionBeyondMaximum(
                f"a {terms.kind} order may run at most {rules.max_duration}"
            )
        every = policy.check_in_every[self.risk_level]
        schedule = CheckInSchedule(terms.valid_from, every, policy.check_in_grace, 0, valid_until)
        self.trigger_event(
            self.Issued,
            timestamp=at,
            actor=by,
            terms=terms.with_valid_until(valid_until),
            policy_version=policy.version,
            schedule=schedule,
            check_in_due=schedule.due(1),
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
        _not_in_future(served_at, at, policy, field="served_at")
        self._in_force_at(served_at, field="served_at")
        if self.served_at is not None:
            raise errors.OrderAlreadyServed(f"order {self.id} was served at {self.served_at}")
        self.trigger_event(
            self.Served, timestamp=at, actor=by, served_at=served_at, method=method, notes=notes
        )

    def record_visit(self, visit: Visit, *, by: Actor, at: datetime, policy: Policy) -> None:
        _not_in_future(visit.visited_at, at, policy, field="visited_at")
        self._in_force_at(visit.visited_at, field="visited_at")
        assert self.schedule is not None
        window = self.schedule.window_for(at)
        self.trigger_event(
            self.InspectionVisitRecorded,
            timestamp=at,
            actor=by,
            visit=visit,
            window=window,
            check_in_due=self._after(window),
            claimed_window=self.schedule.window_containing(visit.visited_at),
        )

    def record_missed_check_in(self, *, by: Actor, at: datetime) -> None:
        """Alert the earliest window whose deadline has passed with no report recorded."""
        window = self.next_window
        due = None if self.schedule is None else self.schedule.due(window)
        if self.schedule is None or due is None or at <= due + self.schedule.grace:
            raise errors.CheckInNotOverdue(f"order {self.id} has no overdue check-in at {at}")
        self.trigger_event(
            self.CheckInMissed,
            timestamp=at,
            actor=by,
            window=window,
            window_opened_at=self.schedule.opens(window),
            due_at=due,
            deadline=due + self.schedule.grace,
            check_in_due=self._after(window),
        )

    def report_death(
        self, person_id: str, *, died_at: datetime, by: Actor, at: datetime, policy: Policy
    ) -> None:
        """Record that a protected person has died; reports after it are scrutinised."""
        _not_in_future(died_at, at, policy, field="died_at")
        if person_id not in {p.person_id for p in self.request.protected_persons}:
            raise errors.UnknownProtectedPerson("person_id", "not a protected person of this order")
        if person_id in self.deaths:
            raise errors.DeathAlreadyReported(f"the death of {person_id} is already recorded")
        self.trigger_event(
            self.ProtectedPersonDied, timestamp=at, actor=by, person_id=person_id, died_at=died_at
        )

    def flag_report(
        self, *, rule: str, evidence: str, flagged_version: int, by: Actor, at: datetime
    ) -> bool:
        """Record a detector's finding about the event at `flagged_version`; once per rule."""
        if any(
            f.rule == rule and f.flagged_version == flagged_version for f in self.findings.values()
        ):
            return False
        finding = Finding(uuid4().hex, rule, evidence, flagged_version)
        self.trigger_event(self.ReportFlagged, timestamp=at, actor=by, finding=finding)
        return True

    def review_finding(
        self, finding_id: str, *, decision: Decision, reason: str, by: Actor, at: datetime
    ) -> None:
        """A supervisor confirms or dismisses a finding, saying why."""
        finding = self.findings.get(finding_id)
        if finding is None:
            raise errors.FindingNotFound(f"order {self.id} has no finding {finding_id}")
        if finding.decision is not None:
            raise errors.FindingAlreadyReviewed(f"finding {finding_id} was {finding.decision}")
        if not reason.strip():
            raise errors.InvalidInput("reason", "a review must say why")
        self.trigger_event(
            self.FindingReviewed,
            timestamp=at,
            actor=by,
            finding_id=finding_id,
            decision=decision,
            reason=reason,
        )

    def report_breach(
        self, *, occurred_at: datetime, description: str, by: Actor, at: datetime, policy: Policy
    ) -> str:
        _not_in_future(occurred_at, at, policy, field="occurred_at")
        if self.status is Status.REQUESTED:
            raise errors.OrderNotInForce(f"order {self.id} has not been issued")
        terms = self.issued_terms
        assert terms.valid_until is not None
        ended = self.ended_at or terms.valid_until
        if not terms.valid_from <= occurred_at <= ended:
            raise errors.ClaimedTimeOutOfRange(
                "occurred_at", "outside the order's period of validity"
            )
        enforceable = self.served_at is not None and self.served_at <= occurred_at
        breach = Breach(uuid4().hex, occurred_at, description, enforceable)
        self.trigger_event(self.BreachReported, timestamp=at, actor=by, breach=breach)
        return breach.breach_id

    def respond_to_breach(
        self,
        breach_id: str,
        *,
        response: BreachResponseKind,
        responded_at: datetime,
        notes: str,
        by: Actor,
        at: datetime,
        policy: Policy,
    ) -> None:
        _not_in_future(responded_at, at, policy, field="responded_at")
        if self.status is not Status.ISSUED:
            raise errors.OrderNotInForce(f"order {self.id} is {self.status}, not in force")
        breach = self.breaches.get(breach_id)
        if breach is None:
            raise errors.BreachNotFound(f"order {self.id} has no breach {breach_id}")
        if responded_at < breach.occurred_at:
            raise errors.ClaimedTimeOutOfRange("responded_at", "before the breach occurred")
        self.trigger_event(
            self.BreachResponded,
            timestamp=at,
            actor=by,
            breach_id=breach_id,
            response=response,
            responded_at=responded_at,
            notes=notes,
        )

    def escalate(self, *, target: EscalationTarget, reason: str, by: Actor, at: datetime) -> str:
        if not reason.strip():
            raise errors.InvalidInput("reason", "an escalation must say why")
        escalation = Escalation(uuid4().hex, target, reason)
        self.trigger_event(self.Escalated, timestamp=at, actor=by, escalation=escalation)
        return escalation.escalation_id

    def acknowledge_escalation(self, escalation_id: str, *, by: Actor, at: datetime) -> None:
        escalation = self.escalations.get(escalation_id)
        if escalation is None:
            raise errors.EscalationNotFound(f"order {self.id} has no escalation {escalation_id}")
        if escalation.acknowledged:
            raise errors.EscalationAlreadyAcknowledged(
                f"escalation {escalation_id} was acknowledged"
            )
        self.trigger_event(
            self.EscalationAcknowledged, timestamp=at, actor=by, escalation_id=escalation_id
        )

    def extend(
        self, *, valid_until: datetime, reason: str, by: Actor, at: datetime, policy: Policy
    ) -> None:
        terms = self._in_force_at(at, field="valid_until")
        assert terms.valid_until is not None and self.schedule is not None
        if valid_until <= terms.valid_until:
            raise errors.InvalidInput("valid_until", f"must be later than {terms.valid_until}")
        most = policy.kinds[terms.kind].max_duration
        if valid_until - terms.valid_from > most:
            raise errors.ExtensionBeyondMaximum(f"a {terms.kind} order may run at most {most}")
        schedule = self.schedule.ending_at(valid_until)
        self.trigger_event(
            self.Extended,
            timestamp=at,
            actor=by,
            valid_until=valid_until,
            reason=reason,
            policy_version=policy.version,
            schedule=schedule,
            check_in_due=schedule.due(self.next_window),
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
        _check_persons(protected_person_ids, {p.person_id for p in self.request.protected_persons})
        if not reason.strip():
            raise errors.InvalidInput("reason", "a modification must say why")
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
        assert self.schedule is not None
        if not reason.strip():
            raise errors.InvalidInput("reason", "a revocation must say why")
        schedule = self.schedule.ending_at(at)
        self.trigger_event(
            self.Revoked,
            timestamp=at,
            actor=by,
            reason=reason,
            schedule=schedule,
            check_in_due=schedule.due(self.next_window),
        )

    def expire(self, *, by: Actor, at: datetime) -> None:
        terms = self.issued_terms
        if self.status is not Status.ISSUED or terms.valid_until is None or at < terms.valid_until:
            raise errors.OrderNotDueToExpire(f"order {self.id} is not due to expire at {at}")
        self.trigger_event(self.Expired, timestamp=at, actor=by, valid_until=terms.valid_until)


def _not_in_future(claimed: datetime, recorded: datetime, policy: Policy, *, field: str) -> None:
    if claimed > recorded + policy.future_tolerance:
        raise errors.ClaimedTimeInFuture(field, "lies in the future")


def _check_persons(chosen: tuple[str, ...], requested: set[str]) -> None:
    if not chosen:
        raise errors.InvalidInput("protected_person_ids", "an order must protect someone")
    unknown = set(chosen) - requested
    if unknown:
        raise errors.UnknownProtectedPerson(
            "protected_person_ids", f"not on the request: {sorted(unknown)}"
        )
