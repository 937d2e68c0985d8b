"""The vocabulary of a protection order: who acts, who is protected, what was decided.

These are the values that events carry. They are stored inside every event record, so a
member is never renamed or removed; add a new one instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from orders.presence import Proof


class Role(StrEnum):
    """The part a person plays; `system` is the service itself (scheduler sweeps)."""

    SOCIAL_WORKER = "social_worker"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    PROSECUTOR = "prosecutor"
    READER = "reader"
    ADMIN = "admin"
    SYSTEM = "system"


class Channel(StrEnum):
    """Where the request was made."""

    MAHALLA_OFFICE = "mahalla_office"
    POLICE_STATION = "police_station"
    ONLINE = "online"
    HOTLINE = "hotline"


class Sex(StrEnum):
    """Sex of a protected person as recorded on the request."""

    FEMALE = "female"
    MALE = "male"


class ViolenceType(StrEnum):
    """The four kinds of domestic violence the law names."""

    PHYSICAL = "physical"
    PSYCHOLOGICAL = "psychological"
    SEXUAL = "sexual"
    ECONOMIC = "economic"


class Relationship(StrEnum):
    """How the respondent is related to the petitioner."""

    SPOUSE = "spouse"
    FORMER_SPOUSE = "former_spouse"
    PARTNER = "partner"
    FORMER_PARTNER = "former_partner"
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    OTHER_RELATIVE = "other_relative"
    OTHER = "other"


class FirearmsAccess(StrEnum):
    """Whether the respondent can reach a firearm."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class RiskLevel(StrEnum):
    """Level of threat, from low to extreme; compare with `rank`."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    EXTREME = "extreme"

    @property
    def rank(self) -> int:
        return list(RiskLevel).index(self)


class OrderKind(StrEnum):
    """Which kind of order was issued; each has its own durations in the policy."""

    TEMPORARY = "temporary"
    EXTENDED = "extended"
    COURT = "court"


class Condition(StrEnum):
    """The fixed vocabulary of conditions an order imposes on the respondent."""

    NO_CONTACT = "no_contact"
    NO_CONTACT_THROUGH_THIRD_PARTIES = "no_contact_through_third_parties"
    STAY_AWAY_FROM_RESIDENCE = "stay_away_from_residence"
    LEAVE_SHARED_RESIDENCE = "leave_shared_residence"
    NO_FIREARMS = "no_firearms"
    ATTEND_BEHAVIOUR_PROGRAMME = "attend_behaviour_programme"


class ServiceMethod(StrEnum):
    """How the respondent was notified of the order."""

    IN_PERSON = "in_person"
    IN_WRITING = "in_writing"
    BY_PHONE = "by_phone"


class VisitOutcome(StrEnum):
    """What an inspection visit found."""

    PERSON_SAFE = "person_safe"
    CONCERNS_RAISED = "concerns_raised"
    PERSON_NOT_FOUND = "person_not_found"
    BREACH_OBSERVED = "breach_observed"


class BreachResponseKind(StrEnum):
    """What the police did about a breach."""

    WARNING = "warning"
    OFFENCE_PROTOCOL = "offence_protocol"
    DETENTION = "detention"
    COURT_REFERRAL = "court_referral"


class EscalationTarget(StrEnum):
    """Who an escalation goes to."""

    SUPERVISOR = "supervisor"
    PROSECUTOR = "prosecutor"
    COURT = "court"


class LocationKind(StrEnum):
    """What a protected person's location is to them."""

    HOME = "home"
    SHELTER = "shelter"
    WORK = "work"
    SCHOOL = "school"
    OTHER = "other"


class Decision(StrEnum):
    """A supervisor's decision on a finding."""

    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class Strength(StrEnum):
    """How strongly a detector's finding points to a forged report: `strong`, a pattern an
    honest report cannot show; `moderate`, one that wants an explanation; `weak`, worth a look."""

    STRONG = "strong"
    MODERATE = "moderate"
    WEAK = "weak"

    @property
    def rank(self) -> int:
        """0 for the strongest: the order a supervisor's queue shows them in."""
        return list(Strength).index(self)


class Status(StrEnum):
    """Where an order is in its life."""

    REQUESTED = "requested"
    ISSUED = "issued"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Actor:
    """Who did something: an account id and the role they acted in."""

    id: str
    role: Role


SYSTEM_ACTOR = Actor(id="scheduler", role=Role.SYSTEM)


@dataclass(frozen=True)
class Location:
    """Where a protected person may be found, and its position if known; a sensitive field."""

    kind: LocationKind
    address: str
    position: Position | None = None


@dataclass(frozen=True)
class ProtectedPerson:
    """A person the order protects; children are listed in their own right."""

    person_id: str
    name: str
    sex: Sex
    birth_date: date
    locations: tuple[Location, ...] = ()


@dataclass(frozen=True)
class Respondent:
    """The person the order is against."""

    name: str
    relationship: Relationship
    birth_date: date | None = None


@dataclass(frozen=True)
class Request:
    """What the petitioner asks for and tells; the narrative is a sensitive field."""

    channel: Channel
    district: str
    petitioner_name: str
    protected_persons: tuple[ProtectedPerson, ...]
    respondent: Respondent
    violence_types: tuple[ViolenceType, ...]
    incident_at: datetime
    incident_narrative: str
    shared_residence: bool
    firearms_access: FirearmsAccess


@dataclass(frozen=True)
class Terms:
    """What an issued order imposes, on whom, and for how long (None: the policy's default)."""

    kind: OrderKind
    conditions: tuple[Condition, ...]
    other_conditions: tuple[str, ...]
    protected_person_ids: tuple[str, ...]
    inspector_id: str
    valid_from: datetime
    valid_until: datetime | None = None

    def with_valid_until(self, valid_until: datetime) -> Terms:
        return replace(self, valid_until=valid_until)

    def modified(
        self,
        conditions: tuple[Condition, ...],
        other_conditions: tuple[str, ...],
        protected_person_ids: tuple[str, ...],
    ) -> Terms:
        return replace(
            self,
            conditions=conditions,
            other_conditions=other_conditions,
            protected_person_ids=protected_person_ids,
        )


@dataclass(frozen=True)
class Position:
    """A position fix in WGS84 degrees; a sensitive field."""

    latitude: float
    longitude: float


@dataclass(frozen=True)
class Visit:
    """An inspector's account of an inspection visit; `visited_at` is the claimed time."""

    visited_at: datetime
    met_with: tuple[str, ...]
    outcome: VisitOutcome
    notes: str = ""
    position: Position | None = None
    proof: Proof | None = None  # the code she gave, as checked (the code itself is not kept)


@dataclass(frozen=True)
class Breach:
    """A breach of the order as reported, and whether it was answered; `occurred_at` is the
    claimed time."""

    breach_id: UUID
    occurred_at: datetime
    description: str
    enforceable: bool
    responded: bool = False


@dataclass(frozen=True)
class Escalation:
    """An escalation raised on the order, and whether it was acknowledged."""

    escalation_id: UUID
    target: EscalationTarget
    reason: str
    acknowledged: bool = False


@dataclass(frozen=True)
class Finding:
    """A detector's finding about one recorded report, and its review once made."""

    finding_id: UUID
    rule: str
    evidence: str
    flagged_version: int
    decision: Decision | None = None
    strength: Strength = Strength.MODERATE  # findings recorded before strengths were graded
