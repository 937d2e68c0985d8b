"""An order's state as its own events tell it, and its sensitive fields for the audited read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from orders import events
from orders import values as v
from orders.disclosure import SENSITIVE_FIELDS
from orders.domain import ProtectionOrder
from orders.presence import Verdict


class Out(BaseModel):
    """Base of every response shape."""

    model_config = ConfigDict(from_attributes=True)


class TermsOut(Out):
    kind: v.OrderKind
    conditions: list[v.Condition]
    other_conditions: list[str]
    protected_person_ids: list[str]
    inspector_id: str
    valid_from: datetime
    valid_until: datetime | None


class BreachOut(Out):
    breach_id: UUID
    occurred_at: datetime
    enforceable: bool
    responded: bool


class EscalationOut(Out):
    escalation_id: UUID
    target: v.EscalationTarget
    acknowledged: bool


class FindingOut(Out):
    """A detector's finding about one report (the event at `flagged_version`)."""

    finding_id: UUID
    rule: str
    strength: v.Strength
    evidence: str
    flagged_version: int
    decision: v.Decision | None


class LoweringOut(Out):
    """A proposed lower risk level awaiting a second supervisor's approval."""

    proposal_id: UUID
    level: v.RiskLevel
    proposed_by: str
    proposed_at: datetime


class PersonOut(Out):
    person_id: str
    name: str
    sex: v.Sex
    birth_date: date


class OrderOut(Out):
    """An order's state, straight from its events; sensitive fields are listed in `redacted`."""

    order_id: UUID
    version: int
    status: v.Status
    district: str
    channel: v.Channel
    protected_persons: list[PersonOut]
    violence_types: list[v.ViolenceType]
    firearms_access: v.FirearmsAccess
    risk_level: v.RiskLevel | None
    needs_reassessment: bool
    terms: TermsOut | None
    served_at: datetime | None
    check_in_due: datetime | None
    check_in_deadline: datetime | None
    missed_check_ins: int
    late_reports: int
    breaches: list[BreachOut]
    escalations: list[EscalationOut]
    findings: list[FindingOut]
    risk_lowering: LoweringOut | None = Field(
        None, description="A lower level proposed and not yet approved; not in force."
    )
    requested_at: datetime
    updated_at: datetime
    redacted: list[str] = Field(
        default=list(SENSITIVE_FIELDS), description="Fields withheld from this view."
    )

    @classmethod
    def of(cls, order: ProtectionOrder) -> OrderOut:
        check_ins = order.check_ins
        return cls(
            order_id=order.id,
            version=order.version,
            status=order.status,
            district=order.request.district,
            channel=order.request.channel,
            protected_persons=[
                PersonOut.model_validate(p) for p in order.request.protected_persons
            ],
            violence_types=list(order.request.violence_types),
            firearms_access=order.request.firearms_access,
            risk_level=order.risk_level,
            needs_reassessment=order.needs_reassessment,
            terms=None if order.terms is None else TermsOut.model_validate(order.terms),
            served_at=order.served_at,
            check_in_due=None if check_ins is None else check_ins.due,
            check_in_deadline=None if check_ins is None else check_ins.deadline,
            missed_check_ins=order.missed_check_ins,
            late_reports=order.late_reports,
            breaches=[
                BreachOut(
                    breach_id=b.breach_id,
                    occurred_at=b.occurred_at,
                    enforceable=b.enforceable,
                    responded=b.responded,
                )
                for b in order.breaches.values()
            ],
            escalations=[EscalationOut.model_validate(e) for e in order.escalations.values()],
            findings=[FindingOut.model_validate(f) for f in order.scrutiny.findings],
            risk_lowering=None
            if order.lowering is None
            else LoweringOut.model_validate(order.lowering),
            requested_at=order.created_on,
            updated_at=order.modified_on,
        )


class PositionOut(Out):
    latitude: float
    longitude: float


class LocationOut(Out):
    kind: v.LocationKind
    address: str
    position: PositionOut | None


class PersonLocationsOut(Out):
    person_id: str
    name: str
    locations: list[LocationOut]


class VisitOut(Out):
    visited_at: datetime
    met_with: list[str]
    outcome: v.VisitOutcome
    notes: str
    position: PositionOut | None
    proof: Verdict | None = Field(
        description="The code she gave, as checked against the claimed time (None: no code); "
        "the code itself is never kept."
    )


class BreachDescriptionOut(Out):
    breach_id: UUID
    occurred_at: datetime
    description: str


class ConfidentialOut(Out):
    """An order's sensitive fields; every such read is recorded as a disclosure. The visit
    reports come from the order's events (`history`): the order itself keeps none."""

    order_id: UUID
    incident_narrative: str
    protected_persons: list[PersonLocationsOut]
    visits: list[VisitOut]
    breaches: list[BreachDescriptionOut]

    @classmethod
    def of(cls, order: ProtectionOrder, history: Iterable[object]) -> ConfidentialOut:
        visits = [e.visit for e in history if isinstance(e, events.InspectionVisitRecorded)]
        return cls(
            order_id=order.id,
            incident_narrative=order.request.incident_narrative,
            protected_persons=[
                PersonLocationsOut.model_validate(p) for p in order.request.protected_persons
            ],
            visits=[
                VisitOut(
                    visited_at=v.visited_at,
                    met_with=list(v.met_with),
                    outcome=v.outcome,
                    notes=v.notes,
                    position=None if v.position is None else PositionOut.model_validate(v.position),
                    proof=None if v.proof is None else v.proof.verdict,
                )
                for v in visits
            ],
            breaches=[BreachDescriptionOut.model_validate(b) for b in order.breaches.values()],
        )
