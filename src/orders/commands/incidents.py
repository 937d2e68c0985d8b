"""Commands about what happens around an order: breaches, escalations, deaths, findings."""

from __future__ import annotations

from uuid import UUID

from orders import values as v
from orders.commands.base import INSP, PROS, SUP, SW, Command, Context
from orders.domain import ProtectionOrder
from orders.inputs import (
    LongText,
    Moment,
    PersonId,
    Reason,
)


class ReportBreach(Command):
    """Report a breach; one before service is recorded but marked not enforceable."""

    may = frozenset({SW, INSP, SUP})
    path = "/breaches"
    returns = "breach_id"

    occurred_at: Moment
    description: LongText

    def decide(self, order: ProtectionOrder, c: Context) -> UUID:
        return order.report_breach(
            occurred_at=self.occurred_at,
            description=self.description,
            by=c.by,
            at=c.at,
            policy=c.policy,
        )


class RespondToBreach(Command):
    """Record the police response to a breach (warning, protocol, detention, court referral)."""

    may = frozenset({INSP, SUP})
    path = "/breaches/{breach_id}/responses"

    breach_id: UUID
    response: v.BreachResponseKind
    responded_at: Moment
    notes: LongText = ""

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.respond_to_breach(
            self.breach_id,
            response=self.response,
            responded_at=self.responded_at,
            notes=self.notes,
            by=c.by,
            at=c.at,
            policy=c.policy,
        )


class Escalate(Command):
    """Escalate the order to a supervisor, a prosecutor or a court, saying why."""

    may = frozenset({SW, INSP, SUP})
    path = "/escalations"
    returns = "escalation_id"

    target: v.EscalationTarget
    reason: Reason

    def decide(self, order: ProtectionOrder, c: Context) -> UUID:
        return order.escalate(
            target=self.target, reason=self.reason, by=c.by, at=c.at, policy=c.policy
        )


class AcknowledgeEscalation(Command):
    """Acknowledge an escalation: it was received and is being acted on."""

    may = frozenset({SUP, PROS})
    path = "/escalations/{escalation_id}/acknowledgement"

    escalation_id: UUID

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.acknowledge_escalation(self.escalation_id, by=c.by, at=c.at)


class ReportDeath(Command):
    """Record that a protected person has died; later reports claiming earlier times show."""

    may = frozenset({SW, INSP, SUP, PROS})
    path = "/deaths"

    person_id: PersonId
    died_at: Moment

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.report_death(self.person_id, died_at=self.died_at, by=c.by, at=c.at, policy=c.policy)


class ReviewFinding(Command):
    """Confirm or dismiss a detector's finding, saying why."""

    may = frozenset({SUP})
    path = "/findings/{finding_id}/review"

    finding_id: UUID
    decision: v.Decision
    reason: Reason

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.review_finding(
            self.finding_id, decision=self.decision, reason=self.reason, by=c.by, at=c.at
        )
