"""Decisions about what happens around an order: breaches, escalations, deaths, findings.

These commands are part of the protection order (`ProtectionOrder` inherits them); they live
here so that the order's own module stays about its life from request to end.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from orders import errors, events, guards
from orders.alerting import Addressee, AlertKind
from orders.alerts import AlertDecisions
from orders.policy import Policy
from orders.scrutiny import Scrutiny
from orders.state import Breaches, Escalations
from orders.values import (
    Actor,
    Breach,
    BreachResponseKind,
    Decision,
    Escalation,
    EscalationTarget,
    Finding,
    Status,
    Strength,
    Terms,
)


class IncidentDecisions(AlertDecisions):
    """The order's commands about breaches, escalations, deaths and detectors' findings."""

    id: UUID
    version: int
    status: Status
    ended_at: datetime | None
    served_at: datetime | None
    scrutiny: Scrutiny
    breaches: Breaches
    escalations: Escalations
    trigger_event: Callable[..., Any]

    @property
    def issued_terms(self) -> Terms:
        raise NotImplementedError

    @property
    def person_ids(self) -> set[str]:
        raise NotImplementedError

    def report_death(
        self, person_id: str, *, died_at: datetime, by: Actor, at: datetime, policy: Policy
    ) -> None:
        """Record that a protected person has died; reports after it are scrutinised."""
        guards.not_in_future(died_at, at, policy, field="died_at")
        if person_id not in self.person_ids:
            raise errors.UnknownProtectedPerson("person_id", "not a protected person of this order")
        if person_id in self.scrutiny.dead:
            raise errors.DeathAlreadyReported("this person's death is already recorded")
        self.trigger_event(
            events.ProtectedPersonDied, timestamp=at, actor=by, person_id=person_id, died_at=died_at
        )

    def flag_report(
        self,
        *,
        rule: str,
        strength: Strength,
        evidence: str,
        flagged_version: int,
        by: Actor,
        at: datetime,
    ) -> bool:
        """Record a detector's finding about the event at `flagged_version`; once per rule."""
        if not 1 <= flagged_version <= self.version:
            raise errors.NoSuchEvent("flagged_version", "the order has no event at this version")
        if self.scrutiny.already_flagged(rule, flagged_version):
            return False
        finding = Finding(uuid4(), rule, evidence, flagged_version, strength=strength)
        self.trigger_event(events.ReportFlagged, timestamp=at, actor=by, finding=finding)
        return True

    def review_finding(
        self, finding_id: UUID, *, decision: Decision, reason: str, by: Actor, at: datetime
    ) -> None:
        """A supervisor confirms or dismisses a finding, saying why."""
        finding = self.scrutiny.finding(finding_id)
        if finding is None:
            raise errors.FindingNotFound("the order has no finding with this id")
        if finding.decision is not None:
            raise errors.FindingAlreadyReviewed(f"the finding was {finding.decision} already")
        guards.says_why(reason, "a review")
        self.trigger_event(
            events.FindingReviewed,
            timestamp=at,
            actor=by,
            finding_id=finding_id,
            decision=decision,
            reason=reason,
        )

    def report_breach(
        self, *, occurred_at: datetime, description: str, by: Actor, at: datetime, policy: Policy
    ) -> UUID:
        guards.not_in_future(occurred_at, at, policy, field="occurred_at")
        terms = self.issued_terms
        guards.within(terms, occurred_at, field="occurred_at", ended_at=self.ended_at)
        enforceable = self.served_at is not None and self.served_at <= occurred_at
        breach = Breach(uuid4(), occurred_at, description, enforceable)
        respond_by = at + policy.breach_response_within
        reassess_by = at + policy.reassess_after_breach
        duties = self.duties.breach_reported(breach.breach_id, respond_by, reassess_by)
        self.trigger_event(
            events.BreachReported,
            timestamp=at,
            actor=by,
            breach=breach,
            respond_by=respond_by,
            reassess_by=reassess_by,
            **self._deadlines(duties=duties),
        )
        return breach.breach_id

    def respond_to_breach(
        self,
        breach_id: UUID,
        *,
        response: BreachResponseKind,
        responded_at: datetime,
        notes: str,
        by: Actor,
        at: datetime,
        policy: Policy,
    ) -> None:
        guards.not_in_future(responded_at, at, policy, field="responded_at")
        # A breach of an order in force is answered even after the order ended.
        breach = self.breaches.get(breach_id)
        if breach is None:
            raise errors.BreachNotFound("the order has no breach with this id")
        if responded_at < breach.occurred_at:
            raise errors.ClaimedTimeOutOfRange("responded_at", "before the breach occurred")
        self.trigger_event(
            events.BreachResponded,
            timestamp=at,
            actor=by,
            breach_id=breach_id,
            response=response,
            responded_at=responded_at,
            notes=notes,
            **self._deadlines(duties=self.duties.done(AlertKind.BREACH_UNANSWERED, str(breach_id))),
        )
        self.resolve_alerts(
            AlertKind.BREACH_UNANSWERED, str(breach_id), reason="the police answered", by=by, at=at
        )

    def escalate(
        self, *, target: EscalationTarget, reason: str, by: Actor, at: datetime, policy: Policy
    ) -> UUID:
        """Escalate the order; the escalation is an alert on its ladder, starting at the rung
        of its target (a court's escalation starts with the prosecutor)."""
        guards.says_why(reason, "an escalation")
        escalation = Escalation(uuid4(), target, reason)
        self.trigger_event(
            events.Escalated, timestamp=at, actor=by, escalation=escalation, **self._deadlines()
        )
        starts = (
            Addressee.SUPERVISOR if target is EscalationTarget.SUPERVISOR else Addressee.PROSECUTOR
        )
        self.raise_alert(
            AlertKind.ESCALATION,
            str(escalation.escalation_id),
            due_at=at,
            by=by,
            at=at,
            policy=policy,
            starts_at=starts,
        )
        return escalation.escalation_id

    def acknowledge_escalation(self, escalation_id: UUID, *, by: Actor, at: datetime) -> None:
        escalation = self.escalations.get(escalation_id)
        if escalation is None:
            raise errors.EscalationNotFound("the order has no escalation with this id")
        if escalation.acknowledged:
            raise errors.EscalationAlreadyAcknowledged("the escalation was acknowledged already")
        for alert in self.duties.alerts_about(AlertKind.ESCALATION, str(escalation_id)):
            # The ladder's rule holds here too: acknowledged at its rung or above.
            self.acknowledge_alert(alert.alert_id, note="escalation acknowledged", by=by, at=at)
            return
        self.trigger_event(
            events.EscalationAcknowledged,
            timestamp=at,
            actor=by,
            escalation_id=escalation_id,
            **self._deadlines(),
        )
