"""What happens to a protection order, as events: the stored schema of its history.

Each event's `apply` only assigns state: it runs again every time an order is loaded, so no
checks, no clock, no I/O. The event's `timestamp` is the time the service recorded it; claimed
times are fields of their own. Never rename, move or remove an event or a field: stored
events must always load. Add a new event, or a field with a default, instead.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate

from orders.alerting import EXPIRY_NOTICE, Addressee, AlertKind, Contact, OpenAlert, Rung
from orders.checkins import CheckIns
from orders.presence import PresenceProof, Verdict
from orders.proposals import Lowering
from orders.scrutiny import Alert, Incident
from orders.values import (
    Actor,
    Breach,
    BreachResponseKind,
    Condition,
    Decision,
    Escalation,
    Finding,
    Request,
    RiskLevel,
    ServiceMethod,
    Status,
    Terms,
    Visit,
)

if TYPE_CHECKING:
    from orders.domain import ProtectionOrder


class Event(Aggregate.Event):
    """Something that happened to an order: who did it is always known."""

    actor: Actor


class SetsDeadlines(Event):
    """An event after which the order's next deadlines are the ones it carries: the pending
    check-in's due time and deadline, and when a duty next falls due or an alert climbs."""

    check_in_due: datetime | None
    check_in_deadline: datetime | None
    duty_due: datetime | None


class Requested(Aggregate.Created):
    """A petitioner asked for protection: the order exists from here."""

    actor: Actor
    request: Request


class RiskAssessed(SetsDeadlines):
    """The risk was assessed: computed level, final level, and a tighter cadence if any."""

    instrument: str
    answers: dict[str, bool]
    computed_level: RiskLevel
    final_level: RiskLevel
    reason: str
    policy_version: str
    check_ins: CheckIns | None  # a tighter cadence, if the new level brought one
    reassess_by: datetime | None  # when the next reassessment falls due (None: not issued)

    def apply(self, order: ProtectionOrder) -> None:
        order.risk_level = RiskLevel(self.final_level)
        order.last_assessed_at = self.timestamp
        order.needs_reassessment = False
        order.check_ins = self.check_ins or order.check_ins
        order.duties = order.duties.reassessed(self.reassess_by)
        order.lowering = None  # a new assessment supersedes any proposal to lower


class Issued(SetsDeadlines):
    """The order was issued on its terms, with the check-in cadence then in force."""

    terms: Terms
    policy_version: str
    check_ins: CheckIns
    reassess_by: datetime
    notify_expiry_at: datetime | None  # when those who asked are told it ends soon

    def apply(self, order: ProtectionOrder) -> None:
        order.status, order.terms, order.check_ins = Status.ISSUED, self.terms, self.check_ins
        order.duties = order.duties.issued(self.reassess_by, self.notify_expiry_at)


class Served(Event):
    """The respondent was notified of the order."""

    served_at: datetime
    method: ServiceMethod
    notes: str

    def apply(self, order: ProtectionOrder) -> None:
        order.served_at = self.served_at


class InspectionVisitRecorded(SetsDeadlines):
    """An inspector reported a visit to the protected person."""

    visit: Visit
    window: int | None  # the window it met: the one it claims, if recorded by its deadline
    claimed_window: int | None  # the window its claimed time lies in (None: in no window)
    late: bool = False  # recorded after the deadline of the window it claims: it met none

    def apply(self, order: ProtectionOrder) -> None:
        if self.window is not None:
            order.check_ins = order.scheduled.cover(self.window)
        order.late_reports += int(self.late)
        proof = self.visit.proof
        if proof is not None and proof.verdict is Verdict.PROVEN and proof.proof_id:
            order.used_codes = order.used_codes.with_code(proof.proof_id, proof.counter or 0)


class PresenceProofEnrolled(Event):
    """A protected person was given a way to prove visits; it replaces her last one."""

    proof: PresenceProof

    def apply(self, order: ProtectionOrder) -> None:
        person = self.proof.person_id
        order.proofs = (
            *(
                replace(p, revoked_at=self.timestamp)
                if p.person_id == person and p.revoked_at is None
                else p
                for p in order.proofs
            ),
            self.proof,
        )


class CheckInMissed(SetsDeadlines):
    """A check-in window passed its deadline with no report recorded for it."""

    window: int
    window_opened_at: datetime
    due_at: datetime
    deadline: datetime

    def apply(self, order: ProtectionOrder) -> None:
        order.check_ins = order.scheduled.cover(self.window)
        order.missed_check_ins += 1
        alert = Alert(self.window_opened_at, self.due_at, self.timestamp)
        order.scrutiny = order.scrutiny.with_alert(alert)


class ProtectedPersonDied(Event):
    """A protected person died."""

    person_id: str
    died_at: datetime

    def apply(self, order: ProtectionOrder) -> None:
        order.scrutiny = order.scrutiny.with_death(self.person_id, self.died_at, self.timestamp)


class ReportFlagged(Event):
    """A falsification detector's finding about a recorded report."""

    finding: Finding

    def apply(self, order: ProtectionOrder) -> None:
        order.scrutiny = order.scrutiny.with_finding(self.finding)


class FindingReviewed(Event):
    """A supervisor confirmed or dismissed a finding."""

    finding_id: UUID
    decision: Decision
    reason: str

    def apply(self, order: ProtectionOrder) -> None:
        order.scrutiny = order.scrutiny.with_review(self.finding_id, Decision(self.decision))


class BreachReported(SetsDeadlines):
    """A breach of the order was reported: the police must answer it, the risk be reassessed."""

    breach: Breach
    respond_by: datetime
    reassess_by: datetime

    def apply(self, order: ProtectionOrder) -> None:
        order.breaches = order.breaches.with_entry(self.breach)
        order.needs_reassessment = True
        order.duties = order.duties.breach_reported(
            self.breach.breach_id, self.respond_by, self.reassess_by
        )
        incident = Incident("breach", self.breach.occurred_at, self.timestamp)
        order.scrutiny = order.scrutiny.with_incident(incident)


class BreachResponded(SetsDeadlines):
    """The police answered a breach."""

    breach_id: UUID
    response: BreachResponseKind
    responded_at: datetime
    notes: str

    def apply(self, order: ProtectionOrder) -> None:
        breach = order.breaches[self.breach_id]
        order.breaches = order.breaches.with_entry(replace(breach, responded=True))
        order.duties = order.duties.done(AlertKind.BREACH_UNANSWERED, str(self.breach_id))


class Escalated(SetsDeadlines):
    """The order was escalated to a supervisor, prosecutor or court."""

    escalation: Escalation

    def apply(self, order: ProtectionOrder) -> None:
        order.escalations = order.escalations.with_entry(self.escalation)
        incident = Incident("escalation", self.timestamp, self.timestamp)
        order.scrutiny = order.scrutiny.with_incident(incident)


class EscalationAcknowledged(SetsDeadlines):
    """An escalation was received and taken up."""

    escalation_id: UUID

    def apply(self, order: ProtectionOrder) -> None:
        escalation = order.escalations[self.escalation_id]
        order.escalations = order.escalations.with_entry(replace(escalation, acknowledged=True))


class Extended(SetsDeadlines):
    """The order now runs until a later time."""

    valid_until: datetime
    reason: str
    policy_version: str
    check_ins: CheckIns
    notify_expiry_at: datetime | None

    def apply(self, order: ProtectionOrder) -> None:
        order.terms = order.issued_terms.with_valid_until(self.valid_until)
        order.check_ins = self.check_ins
        order.duties = order.duties.extended(self.notify_expiry_at)


class Modified(Event):
    """The conditions or the persons covered changed."""

    conditions: tuple[Condition, ...]
    other_conditions: tuple[str, ...]
    protected_person_ids: tuple[str, ...]
    reason: str

    def apply(self, order: ProtectionOrder) -> None:
        order.terms = order.issued_terms.modified(
            self.conditions, self.other_conditions, self.protected_person_ids
        )


class Revoked(SetsDeadlines):
    """The order was ended before its time."""

    reason: str
    check_ins: CheckIns

    def apply(self, order: ProtectionOrder) -> None:
        order.status, order.ended_at = Status.REVOKED, self.timestamp
        order.duties = order.duties.ended()
        order.check_ins = self.check_ins


class Expired(SetsDeadlines):
    """The order ran to the end of its validity."""

    valid_until: datetime

    def apply(self, order: ProtectionOrder) -> None:
        order.status, order.ended_at = Status.EXPIRED, self.valid_until
        order.duties = order.duties.ended()


# Alerts and duties (orders.alerting)


class AlertRaised(SetsDeadlines):
    """A duty lapsed: the alert goes to the first rung of its kind's ladder."""

    alert_id: UUID
    kind: AlertKind
    subject: str  # what it is about: a window number, a breach or escalation id, a due time
    due_at: datetime  # when the lapsed duty fell due
    ladder: tuple[Rung, ...]
    acknowledge_by: datetime
    district: str
    inspector_id: str | None

    @property
    def addressee(self) -> Addressee:
        return self.ladder[0].notify

    def apply(self, order: ProtectionOrder) -> None:
        alert = OpenAlert(
            self.alert_id,
            AlertKind(self.kind),
            self.subject,
            self.timestamp,
            self.ladder,
            0,
            self.acknowledge_by,
        )
        order.duties = order.duties.raised(alert)


class AlertClimbed(SetsDeadlines):
    """Nobody acknowledged an alert in time: it now tells the next rung."""

    alert_id: UUID
    kind: AlertKind
    rung: int
    addressee: Addressee
    acknowledge_by: datetime
    district: str
    inspector_id: str | None

    def apply(self, order: ProtectionOrder) -> None:
        order.duties = order.duties.climbed(self.alert_id)


class AlertClosed(SetsDeadlines):
    """An alert stopped: everyone it had reached (`told`) hears so."""

    alert_id: UUID
    kind: AlertKind
    told: tuple[Addressee, ...]
    district: str
    inspector_id: str | None

    def apply(self, order: ProtectionOrder) -> None:
        order.duties = order.duties.closed(self.alert_id)


class AlertAcknowledged(AlertClosed):
    """Someone at the alert's rung or above took it up, saying what they will do."""

    note: str


class AlertResolved(AlertClosed):
    """What the alert waited for was done (a breach answered, a reassessment made)."""

    reason: str


class ExpiryApproaching(SetsDeadlines):
    """The order ends soon: those who asked to be told are told."""

    valid_until: datetime

    def apply(self, order: ProtectionOrder) -> None:
        order.duties = order.duties.done(EXPIRY_NOTICE)


# A protected person's consent to be told (orders.alerting.Contact)


class ContactRegistered(Event):
    """A protected person consented to be told about her order, and said where."""

    contact: Contact

    def apply(self, order: ProtectionOrder) -> None:
        order.contacts = order.contacts.with_entry(self.contact)


class ContactWithdrawn(Event):
    """A protected person withdrew her consent: nothing more is sent to that contact."""

    contact_id: UUID

    def apply(self, order: ProtectionOrder) -> None:
        order.contacts = order.contacts.without(self.contact_id)


# Lowering a threat takes two people (orders.lowering)


class RiskLoweringProposed(SetsDeadlines):
    """A reassessment would lower the level in force: a proposal until a second person
    approves it; the level in force and its cadence stay meanwhile."""

    proposal_id: UUID
    in_force: RiskLevel
    instrument: str
    answers: dict[str, bool]
    computed_level: RiskLevel
    final_level: RiskLevel
    reason: str
    policy_version: str
    reassess_by: datetime | None

    def apply(self, order: ProtectionOrder) -> None:
        order.lowering = Lowering(
            self.proposal_id, RiskLevel(self.final_level), self.actor.id, self.timestamp
        )
        order.last_assessed_at = self.timestamp
        order.needs_reassessment = False
        order.duties = order.duties.reassessed(self.reassess_by)


class RiskLoweringApproved(SetsDeadlines):
    """A second supervisor approved the lower level: it is in force from now."""

    proposal_id: UUID
    final_level: RiskLevel
    check_ins: CheckIns | None  # the looser cadence of the lower level
    reassess_by: datetime | None
    policy_version: str

    def apply(self, order: ProtectionOrder) -> None:
        order.risk_level = RiskLevel(self.final_level)
        order.lowering = None
        order.check_ins = self.check_ins or order.check_ins
        if self.reassess_by is not None:
            order.duties = order.duties.reassessed(self.reassess_by)


class RiskLoweringRejected(Event):
    """The proposed lower level was rejected: the level in force stays."""

    proposal_id: UUID
    reason: str

    def apply(self, order: ProtectionOrder) -> None:
        order.lowering = None
