"""What goes in and out over HTTP. Unknown fields, naive times and absurd values are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from orders import values as v
from orders.domain import ProtectionOrder

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it at the door
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
LongText = Annotated[str, Field(max_length=10_000, pattern=NO_NUL)]
Reason = Annotated[str, Field(min_length=1, max_length=2_000, pattern=NO_NUL)]


def _sane_moment(moment: datetime) -> datetime:
    if (
        not datetime(1900, 1, 1, tzinfo=moment.tzinfo)
        <= moment
        <= datetime(2200, 1, 1, tzinfo=moment.tzinfo)
    ):
        raise ValueError("must lie between 1900 and 2200")
    return moment


def _sane_birth_date(day: date) -> date:
    if not date(1900, 1, 1) <= day <= datetime.now(tz=UTC).date() + timedelta(days=1):
        raise ValueError("must lie between 1900-01-01 and today")
    return day


Moment = Annotated[AwareDatetime, AfterValidator(_sane_moment)]
"""A timezone-aware time; a time without an offset is refused rather than guessed."""
BirthDate = Annotated[date, AfterValidator(_sane_birth_date)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PositionIn(In):
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]


class LocationIn(In):
    kind: v.LocationKind
    address: Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]
    position: PositionIn | None = None


class ProtectedPersonIn(In):
    person_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Text
    sex: v.Sex
    birth_date: BirthDate
    locations: Annotated[list[LocationIn], Field(max_length=10)] = Field(
        default=[], description="Sensitive: returned only by the audited confidential read."
    )

    def to_domain(self) -> v.ProtectedPerson:
        return v.ProtectedPerson(
            person_id=self.person_id,
            name=self.name,
            sex=self.sex,
            birth_date=self.birth_date,
            locations=tuple(
                v.Location(
                    loc.kind,
                    loc.address,
                    None if loc.position is None else v.Position(**loc.position.model_dump()),
                )
                for loc in self.locations
            ),
        )


class RespondentIn(In):
    name: Text
    relationship: v.Relationship
    birth_date: BirthDate | None = None


class RequestIn(In):
    """A petitioner's request for protection."""

    channel: v.Channel
    district: Text
    petitioner_name: Text
    protected_persons: Annotated[list[ProtectedPersonIn], Field(min_length=1, max_length=20)]
    respondent: RespondentIn
    violence_types: Annotated[list[v.ViolenceType], Field(min_length=1, max_length=4)]
    incident_at: Moment
    incident_narrative: LongText = Field(description="Sensitive: never returned by this API.")
    shared_residence: bool
    firearms_access: v.FirearmsAccess

    def to_domain(self) -> v.Request:
        fields = self.model_dump(exclude={"protected_persons", "respondent", "violence_types"})
        return v.Request(
            **fields,
            protected_persons=tuple(p.to_domain() for p in self.protected_persons),
            respondent=v.Respondent(**self.respondent.model_dump()),
            violence_types=tuple(dict.fromkeys(self.violence_types)),
        )


class RiskAssessmentIn(In):
    """Answers to the policy's risk instrument; `final_level` may only raise the computed one."""

    answers: Annotated[
        dict[Annotated[str, Field(max_length=64, pattern=NO_NUL)], bool], Field(max_length=100)
    ]
    final_level: v.RiskLevel | None = None
    reason: Annotated[str, Field(max_length=2_000, pattern=NO_NUL)] = ""


class IssueIn(In):
    """The terms of an order; without `valid_until`, the policy's duration for the kind."""

    kind: v.OrderKind
    conditions: Annotated[list[v.Condition], Field(max_length=20)]
    other_conditions: Annotated[list[Text], Field(max_length=20)] = []
    protected_person_ids: Annotated[list[Text], Field(min_length=1, max_length=20)]
    inspector_id: Text
    valid_from: Moment
    valid_until: Moment | None = None

    def to_domain(self) -> v.Terms:
        return v.Terms(
            kind=self.kind,
            conditions=tuple(dict.fromkeys(self.conditions)),
            other_conditions=tuple(self.other_conditions),
            protected_person_ids=tuple(dict.fromkeys(self.protected_person_ids)),
            inspector_id=self.inspector_id,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


class ServiceIn(In):
    """How and when the respondent was notified; `served_at` is the claimed time."""

    served_at: Moment
    method: v.ServiceMethod
    notes: LongText = ""


class VisitIn(In):
    """An inspection visit; `visited_at` is the claimed time, the recorded one is the server's."""

    visited_at: Moment
    met_with: Annotated[list[Text], Field(max_length=20)]
    outcome: v.VisitOutcome
    notes: LongText = ""
    position: PositionIn | None = None
    proof_code: Annotated[str, Field(min_length=4, max_length=32, pattern=NO_NUL)] | None = None

    def to_domain(self) -> v.Visit:
        position = None if self.position is None else v.Position(**self.position.model_dump())
        return v.Visit(
            visited_at=self.visited_at,
            met_with=tuple(self.met_with),
            outcome=self.outcome,
            notes=self.notes,
            position=position,
            proof_code=self.proof_code,
        )


class BreachIn(In):
    occurred_at: Moment
    description: LongText


class BreachResponseIn(In):
    response: v.BreachResponseKind
    responded_at: Moment
    notes: LongText = ""


class EscalationIn(In):
    target: v.EscalationTarget
    reason: Reason


class ExtensionIn(In):
    valid_until: Moment
    reason: Reason


class ModificationIn(In):
    conditions: Annotated[list[v.Condition], Field(max_length=20)]
    other_conditions: Annotated[list[Text], Field(max_length=20)] = []
    protected_person_ids: Annotated[list[Text], Field(min_length=1, max_length=20)]
    reason: Reason


class DeathIn(In):
    """A protected person's death, as reported; `died_at` is the claimed time."""

    person_id: Text
    died_at: Moment


class ReviewIn(In):
    """A supervisor's decision on a detector's finding, and why."""

    decision: v.Decision
    reason: Reason


class RevocationIn(In):
    reason: Reason


class TermsOut(Out):
    kind: v.OrderKind
    conditions: list[v.Condition]
    other_conditions: list[str]
    protected_person_ids: list[str]
    inspector_id: str
    valid_from: datetime
    valid_until: datetime | None


class BreachOut(Out):
    breach_id: str
    occurred_at: datetime
    enforceable: bool
    responded: bool


class EscalationOut(Out):
    escalation_id: str
    target: v.EscalationTarget
    acknowledged: bool


class FindingOut(Out):
    """A detector's finding about one report (the event at `flagged_version`)."""

    finding_id: str
    rule: str
    evidence: str
    flagged_version: int
    decision: v.Decision | None


class PersonOut(Out):
    person_id: str
    name: str
    sex: v.Sex
    birth_date: date


REDACTED = ["incident_narrative", "protected_persons.locations", "visits", "breaches.description"]


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
    breaches: list[BreachOut]
    escalations: list[EscalationOut]
    findings: list[FindingOut]
    requested_at: datetime
    updated_at: datetime
    redacted: list[str] = Field(default=REDACTED, description="Fields withheld from this view.")

    @classmethod
    def of(cls, order: ProtectionOrder) -> OrderOut:
        due, schedule = order.check_in_due, order.schedule
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
            check_in_due=due,
            check_in_deadline=None if due is None or schedule is None else due + schedule.grace,
            missed_check_ins=order.missed_check_ins,
            breaches=[
                BreachOut(
                    breach_id=b.breach_id,
                    occurred_at=b.occurred_at,
                    enforceable=b.enforceable,
                    responded=b.breach_id in order.responded_breaches,
                )
                for b in order.breaches.values()
            ],
            escalations=[EscalationOut.model_validate(e) for e in order.escalations.values()],
            findings=[FindingOut.model_validate(f) for f in order.findings.values()],
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
    proof_code_given: bool


class BreachDescriptionOut(Out):
    breach_id: str
    occurred_at: datetime
    description: str


class ConfidentialOut(Out):
    """An order's sensitive fields; every such read is recorded as a disclosure."""

    order_id: UUID
    incident_narrative: str
    protected_persons: list[PersonLocationsOut]
    visits: list[VisitOut]
    breaches: list[BreachDescriptionOut]

    @classmethod
    def of(cls, order: ProtectionOrder) -> ConfidentialOut:
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
                    proof_code_given=v.proof_code is not None,
                )
                for v in order.visits
            ],
            breaches=[BreachDescriptionOut.model_validate(b) for b in order.breaches.values()],
        )


class DisclosureOut(Out):
    """One read of an order's sensitive fields: who, in which role, what, when."""

    actor_id: str
    actor_role: v.Role
    fields: list[str]
    read_at: datetime


class CreatedBreachOut(Out):
    breach_id: str
    order: OrderOut


class CreatedEscalationOut(Out):
    escalation_id: str
    order: OrderOut


class OrderSummaryOut(Out):
    """One row of the current-state read model."""

    order_id: UUID
    status: v.Status
    district: str
    channel: v.Channel
    risk_level: v.RiskLevel | None
    needs_reassessment: bool
    inspector_id: str | None
    kind: v.OrderKind | None
    requested_at: datetime
    issued_at: datetime | None
    valid_from: datetime | None
    valid_until: datetime | None
    served: bool
    check_in_due: datetime | None
    check_in_deadline: datetime | None
    missed_check_ins: int
    missed_since_visit: int
    last_visit_recorded_at: datetime | None
    open_breaches: int
    open_escalations: int
    version: int
    updated_at: datetime


class TimelineEntryOut(Out):
    """One event of an order: who, what, the time claimed and the time the server recorded."""

    position: int
    version: int
    event_type: str
    actor_id: str
    actor_role: v.Role
    claimed_at: datetime | None
    recorded_at: datetime
    summary: str


class ErrorOut(Out):
    """A refusal: the named rule or error, and what was wrong (never the refused values)."""

    error: str
    detail: str | list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No bearer token, or one not valid"},
    403: {"model": ErrorOut, "description": "The role or the order's scope does not allow it"},
    404: {"model": ErrorOut, "description": "No such order"},
    409: {"model": ErrorOut, "description": "A rule of the order's life, or a concurrent write"},
    412: {"model": ErrorOut, "description": "If-Match names an older version of the order"},
    413: {"model": ErrorOut, "description": "The request body is too large"},
    422: {"model": ErrorOut, "description": "Invalid input: names the field and the reason"},
}


class AuditRowOut(Out):
    """One inspector's or district's record over the range asked for."""

    group: str
    visits_due: int
    made_on_time: int
    made_late: int
    missed: int
    flagged: int
    median_delay_hours: float | None
    open_alerts: int


class LagOut(Out):
    view: str
    position: int
    head: int
    behind: int


class HealthOut(Out):
    status: str
    database: str
    policy_version: str
    views: list[LagOut]


def rows(model: type[Out], items: list[dict[str, Any]]) -> list[Any]:
    return [model.model_validate(item) for item in items]
