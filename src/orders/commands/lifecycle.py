"""Commands along an order's life: request, assessment, issue, service, visits, changes, end."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from orders import values as v
from orders.commands.base import INSP, PROS, SUP, SW, Command, Context, OpeningCommand, distinct
from orders.domain import ProtectionOrder
from orders.inputs import (
    NO_NUL,
    LongText,
    Moment,
    OptionalReason,
    PersonId,
    PositionIn,
    ProtectedPersonIn,
    Reason,
    RespondentIn,
    Text,
)


class RequestOrder(OpeningCommand):
    """Open a new order from a petitioner's request."""

    may = frozenset({SW, INSP})

    channel: v.Channel
    district: Text
    petitioner_name: Text
    protected_persons: Annotated[list[ProtectedPersonIn], Field(min_length=1, max_length=20)]
    respondent: RespondentIn
    violence_types: Annotated[list[v.ViolenceType], Field(min_length=1, max_length=4)]
    incident_at: Moment
    incident_narrative: LongText = Field(description="Sensitive: never returned but audited.")
    shared_residence: bool
    firearms_access: v.FirearmsAccess

    def open(self, c: Context) -> ProtectionOrder:
        request = v.Request(
            channel=self.channel,
            district=self.district,
            petitioner_name=self.petitioner_name,
            protected_persons=tuple(p.to_domain() for p in self.protected_persons),
            respondent=self.respondent.to_domain(),
            violence_types=distinct(self.violence_types),
            incident_at=self.incident_at,
            incident_narrative=self.incident_narrative,
            shared_residence=self.shared_residence,
            firearms_access=self.firearms_access,
        )
        return ProtectionOrder.open(request, by=c.by, at=c.at, policy=c.policy)


RiskAnswers = dict[Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_]+$")], bool]


class AssessRisk(Command):
    """Assess or reassess the risk; the final level may raise the computed one, with a reason."""

    may = frozenset({INSP, SUP})
    path = "/risk-assessments"

    answers: Annotated[RiskAnswers, Field(max_length=100)]
    final_level: v.RiskLevel | None = None
    reason: OptionalReason = ""

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.assess_risk(
            dict(self.answers),
            final_level=self.final_level,
            reason=self.reason,
            by=c.by,
            at=c.at,
            policy=c.policy,
        )


class IssueOrder(Command):
    """Issue the order; the check-in cadence is copied from the policy in force."""

    may = frozenset({INSP, SUP})
    path = "/issue"

    kind: v.OrderKind
    conditions: Annotated[list[v.Condition], Field(max_length=20)]
    other_conditions: Annotated[list[Text], Field(max_length=20)] = []
    protected_person_ids: Annotated[list[PersonId], Field(min_length=1, max_length=20)]
    inspector_id: Text
    valid_from: Moment
    valid_until: Annotated[Moment | None, Field(description="Default: the policy's duration.")] = (
        None
    )

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        terms = v.Terms(
            kind=self.kind,
            conditions=distinct(self.conditions),
            other_conditions=tuple(self.other_conditions),
            protected_person_ids=distinct(self.protected_person_ids),
            inspector_id=self.inspector_id,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )
        order.issue(terms, by=c.by, at=c.at, policy=c.policy)


class RecordService(Command):
    """Record that the respondent was notified of the order; `served_at` is the claimed time."""

    may = frozenset({INSP})
    path = "/service"

    served_at: Moment
    method: v.ServiceMethod
    notes: LongText = ""

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.serve(
            served_at=self.served_at,
            method=self.method,
            notes=self.notes,
            by=c.by,
            at=c.at,
            policy=c.policy,
        )


class RecordVisit(Command):
    """Record an inspection visit; it meets the check-in window it claims if recorded in time."""

    may = frozenset({INSP})
    path = "/visits"

    visited_at: Moment
    met_with: Annotated[list[Text], Field(max_length=20)]
    outcome: v.VisitOutcome
    notes: LongText = ""
    position: PositionIn | None = None
    proof_code: Annotated[str, Field(min_length=4, max_length=32, pattern=NO_NUL)] | None = None

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        visit = v.Visit(
            visited_at=self.visited_at,
            met_with=tuple(self.met_with),
            outcome=self.outcome,
            notes=self.notes,
            position=None if self.position is None else self.position.to_domain(),
        )
        secrets = {}
        if self.proof_code is not None and order.proofs:
            secrets = c.vault.secrets(order.id, [p.proof_id for p in order.proofs])
        order.record_visit(
            visit, code=self.proof_code, secrets=secrets, by=c.by, at=c.at, policy=c.policy
        )


class ExtendOrder(Command):
    """Extend the order's validity, up to the policy's maximum for its kind."""

    may = frozenset({SUP})
    path = "/extension"

    valid_until: Moment
    reason: Reason

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.extend(
            valid_until=self.valid_until, reason=self.reason, by=c.by, at=c.at, policy=c.policy
        )


class ModifyOrder(Command):
    """Change the conditions or the protected persons the order covers, saying why."""

    may = frozenset({SUP})
    path = "/modification"

    conditions: Annotated[list[v.Condition], Field(max_length=20)]
    other_conditions: Annotated[list[Text], Field(max_length=20)] = []
    protected_person_ids: Annotated[list[PersonId], Field(min_length=1, max_length=20)]
    reason: Reason

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.modify(
            conditions=distinct(self.conditions),
            other_conditions=tuple(self.other_conditions),
            protected_person_ids=distinct(self.protected_person_ids),
            reason=self.reason,
            by=c.by,
            at=c.at,
        )


class RevokeOrder(Command):
    """End the order before its time, saying why."""

    may = frozenset({SUP, PROS})
    path = "/revocation"

    reason: Reason

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.revoke(reason=self.reason, by=c.by, at=c.at)
