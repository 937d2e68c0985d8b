"""The timeline's one-line summaries: each names its fact, none repeats what is sensitive.

Two orders live their whole lives through the aggregate's own commands, with a distinctive
canary planted in every name, narrative, address, note, reason and description; each test
looks at the events the aggregate produced. Wording may change: tests look for the facts.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyotp
import pytest

from orders import events
from orders.alerting import ContactChannel
from orders.domain import ProtectionOrder
from orders.policy import load_policy
from orders.presence import ProofKind
from orders.values import (
    SYSTEM_ACTOR,
    Actor,
    BreachResponseKind,
    Condition,
    Decision,
    EscalationTarget,
    Location,
    LocationKind,
    OrderKind,
    Position,
    ProtectedPerson,
    Request,
    RiskLevel,
    Role,
    ServiceMethod,
    Sex,
    Strength,
)
from projections.timeline import claimed_time, summary
from tests.factories import (
    HIGH_RISK_ANSWERS,
    INSPECTOR,
    LOW_RISK_ANSWERS,
    SOCIAL_WORKER,
    SUPERVISOR,
    a_request,
    a_visit,
    terms,
)

POLICY = load_policy()
PROSECUTOR = Actor("pros-region", Role.PROSECUTOR)
ANY_TIME_AFTER_BREACH = POLICY.model_copy(update={"no_lowering_after_breach": timedelta(0)})
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

HOME = Position(42.874321, 74.612345)
SENSITIVE = {
    "petitioner": "Gulnara-CANARY-petitioner",
    "mother": "Aizada-CANARY-person",
    "child": "Emir-CANARY-person",
    "respondent": "Ruslan-CANARY-respondent",
    "narrative": "CANARY-narrative: he struck her in the kitchen",
    "address": "CANARY-address: Toktogul St 14",
    "risk reason": "CANARY-risk-reason: he bought a gun",
    "other condition": "CANARY-other-condition: no calls to her mother",
    "service notes": "CANARY-service-notes: handed over at his brother's",
    "visit notes": "CANARY-visit-notes: bruises on her arm",
    "breach description": "CANARY-breach: he waited outside the school",
    "response notes": "CANARY-response: taken to the station",
    "escalation reason": "CANARY-escalation: police did not come",
    "review reason": "CANARY-review: the tablet had no signal that day",
    "extension reason": "CANARY-extension: he was released early",
    "modification reason": "CANARY-modification: the child moved to her aunt",
    "revocation reason": "CANARY-revocation: court set it aside",
    "lowering reason": "CANARY-lowering: he moved to Russia",
    "rejection reason": "CANARY-rejection: he is back in town",
    "acknowledgement note": "CANARY-ack: I will visit her at the shelter tonight",
    "contact address": "canary-contact@example.org",
    "mother's birth date": "1994-04-02",
    "child's birth date": "2019-08-15",
    "respondent's birth date": "1988-11-23",
    "latitude": "42.874",
    "longitude": "74.612",
}

# Claimed times, each distinct from the time it was recorded.
INCIDENT_AT = T0 - 5 * HOUR
SERVED_AT = T0 + 2 * HOUR + 30 * MINUTE
VISITED_AT = T0 + DAY - HOUR
BREACH_AT = T0 + 4 * DAY
RESPONDED_AT = T0 + 4 * DAY + 2 * HOUR
DIED_AT = T0 + 2 * DAY

ISSUED_AT = T0 + 2 * HOUR  # the first order runs from here, its check-ins every 72 h
EXTENDED_UNTIL = ISSUED_AT + 200 * DAY
SECOND_ORDER_ENDS = T0 + POLICY.kinds[OrderKind.TEMPORARY].duration


def a_sensitive_request() -> Request:
    request = a_request(T0)
    assert request.incident_at == INCIDENT_AT
    return replace(
        request,
        petitioner_name=SENSITIVE["petitioner"],
        protected_persons=(
            ProtectedPerson(
                "p1",
                SENSITIVE["mother"],
                Sex.FEMALE,
                date.fromisoformat(SENSITIVE["mother's birth date"]),
                (Location(LocationKind.HOME, SENSITIVE["address"], HOME),),
            ),
            ProtectedPerson(
                "p2",
                SENSITIVE["child"],
                Sex.MALE,
                date.fromisoformat(SENSITIVE["child's birth date"]),
            ),
        ),
        respondent=replace(
            request.respondent,
            name=SENSITIVE["respondent"],
            birth_date=date.fromisoformat(SENSITIVE["respondent's birth date"]),
        ),
        incident_narrative=SENSITIVE["narrative"],
    )


class Life:
    """Collects, by type, the events the aggregate produces as an order lives."""

    def __init__(self) -> None:
        self.events: dict[str, Any] = {}
        self.all: list[Any] = []

    def took(self, order: ProtectionOrder) -> Any:
        """Collect what the last command recorded; returns its first event."""
        taken = order.collect_events()
        for event in taken:
            self.events.setdefault(type(event).__name__, event)
            self.all.append(event)
        return taken[0]


def the_first_order_issued_served_visited_breached_and_revoked(life: Life) -> None:
    order = ProtectionOrder.open(a_sensitive_request(), by=SOCIAL_WORKER, at=T0, policy=POLICY)
    life.took(order)
    order.assess_risk(
        HIGH_RISK_ANSWERS,  # computed high
        final_level=RiskLevel.EXTREME,
        reason=SENSITIVE["risk reason"],
        by=INSPECTOR,
        at=T0 + HOUR,
        policy=POLICY,
    )
    life.took(order)
    order_terms = terms(
        ISSUED_AT, kind=OrderKind.COURT, other_conditions=(SENSITIVE["other condition"],)
    )
    order.issue(order_terms, by=INSPECTOR, at=ISSUED_AT, policy=POLICY)
    life.took(order)
    order.serve(
        served_at=SERVED_AT,
        method=ServiceMethod.IN_PERSON,
        notes=SENSITIVE["service notes"],
        by=INSPECTOR,
        at=T0 + 3 * HOUR,
        policy=POLICY,
    )
    life.took(order)
    proof_id = order.enrol_presence_proof(
        "p1", ProofKind.APP, by=SOCIAL_WORKER, at=T0 + 3 * HOUR, policy=POLICY
    )
    life.took(order)
    visit = a_visit(
        VISITED_AT,
        notes=SENSITIVE["visit notes"],
        position=HOME,
    )
    code = pyotp.TOTP(SECRET).at(VISITED_AT)
    order.record_visit(
        visit, code=code, secrets={proof_id: SECRET}, by=INSPECTOR, at=T0 + DAY, policy=POLICY
    )
    visit_version = life.took(order).originator_version
    breach_id = order.report_breach(
        occurred_at=BREACH_AT,
        description=SENSITIVE["breach description"],
        by=INSPECTOR,
        at=BREACH_AT + HOUR,
        policy=POLICY,
    )
    life.took(order)
    order.respond_to_breach(
        breach_id,
        response=BreachResponseKind.DETENTION,
        responded_at=RESPONDED_AT,
        notes=SENSITIVE["response notes"],
        by=INSPECTOR,
        at=RESPONDED_AT + HOUR,
        policy=POLICY,
    )
    life.took(order)
    escalation_id = order.escalate(
        target=EscalationTarget.COURT,
        reason=SENSITIVE["escalation reason"],
        by=SOCIAL_WORKER,
        at=T0 + 5 * DAY,
        policy=POLICY,
    )
    life.took(order)
    order.acknowledge_escalation(escalation_id, by=PROSECUTOR, at=T0 + 5 * DAY + HOUR)
    life.took(order)
    order.record_missed_check_in(
        by=SYSTEM_ACTOR, at=ISSUED_AT + 6 * DAY + 3 * HOUR, policy=POLICY
    )  # window 2
    life.took(order)
    (alert,) = [a for a in order.duties.alerts if a.kind == "missed_check_in"]
    order.attend_to_duties(by=SYSTEM_ACTOR, at=alert.acknowledge_by + HOUR, policy=POLICY)
    life.took(order)  # climbed to the supervisor
    order.acknowledge_alert(
        alert.alert_id,
        note=SENSITIVE["acknowledgement note"],
        by=SUPERVISOR,
        at=T0 + 6 * DAY + 9 * HOUR,
    )
    life.took(order)
    contact_id = order.register_contact(
        "p1",
        channel=ContactChannel.EMAIL,
        address=SENSITIVE["contact address"],
        by=SOCIAL_WORKER,
        at=T0 + 6 * DAY + 10 * HOUR,
    )
    life.took(order)
    order.withdraw_contact(contact_id, by=SOCIAL_WORKER, at=T0 + 6 * DAY + 11 * HOUR)
    life.took(order)
    order.flag_report(
        rule="backdated",
        strength=Strength.MODERATE,
        evidence="recorded 29.0 h after the visit time it claims (threshold 24.0 h)",
        flagged_version=visit_version,
        by=SYSTEM_ACTOR,
        at=T0 + 6 * DAY + 6 * HOUR,
    )
    finding_id = life.took(order).finding.finding_id
    order.review_finding(
        finding_id,
        decision=Decision.DISMISSED,
        reason=SENSITIVE["review reason"],
        by=SUPERVISOR,
        at=T0 + 6 * DAY + 7 * HOUR,
    )
    life.took(order)
    order.extend(
        valid_until=EXTENDED_UNTIL,
        reason=SENSITIVE["extension reason"],
        by=INSPECTOR,
        at=T0 + 7 * DAY,
        policy=POLICY,
    )
    life.took(order)
    order.modify(
        conditions=(Condition.NO_CONTACT, Condition.NO_FIREARMS),
        other_conditions=(SENSITIVE["other condition"],),
        protected_person_ids=("p1",),
        reason=SENSITIVE["modification reason"],
        by=INSPECTOR,
        at=T0 + 7 * DAY + HOUR,
    )
    life.took(order)
    for approve in (False, True):
        order.assess_risk(
            LOW_RISK_ANSWERS,
            final_level=None,
            reason=SENSITIVE["lowering reason"],
            by=INSPECTOR,
            at=T0 + 7 * DAY + 2 * HOUR,
            policy=ANY_TIME_AFTER_BREACH,
        )
        assert order.lowering is not None
        proposal = order.lowering.proposal_id
        life.took(order)
        if approve:
            order.approve_lowering(
                proposal, by=SUPERVISOR, at=T0 + 7 * DAY + 3 * HOUR, policy=ANY_TIME_AFTER_BREACH
            )
        else:
            order.reject_lowering(
                proposal,
                reason=SENSITIVE["rejection reason"],
                by=SUPERVISOR,
                at=T0 + 7 * DAY + 3 * HOUR,
            )
        life.took(order)
    order.revoke(reason=SENSITIVE["revocation reason"], by=SUPERVISOR, at=T0 + 8 * DAY)
    life.took(order)


def the_second_order_never_served_in_which_a_person_died_and_which_expired(life: Life) -> None:
    order = ProtectionOrder.open(a_sensitive_request(), by=SOCIAL_WORKER, at=T0, policy=POLICY)
    order.assess_risk(
        LOW_RISK_ANSWERS, final_level=None, reason="", by=INSPECTOR, at=T0, policy=POLICY
    )
    order.issue(terms(T0), by=INSPECTOR, at=T0, policy=POLICY)
    order.collect_events()
    order.report_breach(
        occurred_at=T0 + DAY,
        description=SENSITIVE["breach description"],
        by=INSPECTOR,
        at=T0 + DAY + HOUR,
        policy=POLICY,
    )
    life.all.append(order.collect_events()[0])  # a breach before service: kept apart below
    order.report_death("p2", died_at=DIED_AT, by=INSPECTOR, at=DIED_AT + 3 * HOUR, policy=POLICY)
    life.took(order)
    order.attend_to_duties(by=SYSTEM_ACTOR, at=SECOND_ORDER_ENDS - HOUR, policy=POLICY)
    life.took(order)  # its notice before expiry, among the alerts of lapsed duties
    order.expire(by=SYSTEM_ACTOR, at=SECOND_ORDER_ENDS)
    life.took(order)


@pytest.fixture(scope="module")
def life() -> Life:
    life = Life()
    the_first_order_issued_served_visited_breached_and_revoked(life)
    the_second_order_never_served_in_which_a_person_died_and_which_expired(life)
    return life


def said(life: Life, event_type: str) -> str:
    return summary(life.events[event_type])


def minute(moment: datetime) -> str:
    """A time in ISO 8601 to the minute, in UTC: what any summary of it should contain."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def names_number(text: str, number: int) -> bool:
    return re.search(rf"\b{number}\b", text) is not None


SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

EVERY_EVENT_TYPE = [
    "Requested",
    "RiskAssessed",
    "Issued",
    "Served",
    "InspectionVisitRecorded",
    "CheckInMissed",
    "BreachReported",
    "BreachResponded",
    "Escalated",
    "EscalationAcknowledged",
    "Extended",
    "Modified",
    "Revoked",
    "ProtectedPersonDied",
    "ReportFlagged",
    "FindingReviewed",
    "Expired",
    "AlertRaised",
    "AlertClimbed",
    "AlertAcknowledged",
    "AlertResolved",
    "ContactRegistered",
    "ContactWithdrawn",
    "RiskLoweringProposed",
    "RiskLoweringRejected",
    "RiskLoweringApproved",
    "ExpiryApproaching",
    "PresenceProofEnrolled",
]


def test_every_event_the_order_records_is_in_this_life() -> None:
    declared = {
        name
        for name, cls in vars(events).items()
        if isinstance(cls, type) and issubclass(cls, (events.Event, events.Requested))
        if (cls.__module__ == events.__name__ and hasattr(cls, "apply")) or name == "Requested"
    }
    assert declared - {"Event", "SetsDeadlines", "AlertClosed"} == set(EVERY_EVENT_TYPE)


# Each summary names its fact


def test_every_event_of_an_orders_life_has_a_summary_of_its_own(life: Life) -> None:
    assert sorted(life.events) == sorted(EVERY_EVENT_TYPE)
    for event_type in EVERY_EVENT_TYPE:
        assert said(life, event_type) != event_type  # not the fallback


def test_a_request_names_channel_district_persons_violence_and_firearms(life: Life) -> None:
    text = said(life, "Requested")
    for fact in ("mahalla_office", "Lenin", "physical", "psychological", "unknown"):
        assert fact in text
    assert names_number(text, 2)  # protected persons


def test_a_risk_assessment_names_the_computed_and_the_final_level(life: Life) -> None:
    text = said(life, "RiskAssessed")
    assert "high" in text
    assert "extreme" in text
    assert POLICY.risk_instrument.name in text
    assert POLICY.version in text


def test_an_issue_names_kind_validity_cadence_and_inspector(life: Life) -> None:
    text = said(life, "Issued")
    assert "court" in text
    assert minute(ISSUED_AT) in text
    assert minute(ISSUED_AT + POLICY.kinds[OrderKind.COURT].duration) in text
    assert "72 h" in text or "3 days" in text  # extreme: every 72 hours
    assert INSPECTOR.id in text


def test_service_names_its_method(life: Life) -> None:
    assert "in_person" in said(life, "Served")


def test_a_visit_names_its_outcome_its_kind_of_proof_and_its_window(life: Life) -> None:
    text = said(life, "InspectionVisitRecorded")
    assert "person_safe" in text
    assert "proof: code proven" in text  # checked against her secret at the claimed time
    assert names_number(text, 1)


def test_a_missed_check_in_names_its_window_and_its_due_time(life: Life) -> None:
    text = said(life, "CheckInMissed")
    assert names_number(text, 2)
    assert minute(ISSUED_AT + 6 * DAY) in text


def test_a_breach_names_itself_and_whether_it_came_after_service(life: Life) -> None:
    after_service = life.events["BreachReported"]
    assert str(after_service.breach.breach_id) in summary(after_service)
    assert "enforceable" in summary(after_service)
    (before_service,) = [
        e for e in life.all if isinstance(e, ProtectionOrder.BreachReported) and e != after_service
    ]
    assert "before service" in summary(before_service)
    assert "enforceable" not in summary(before_service)


def test_a_breach_response_names_the_breach_and_what_the_police_did(life: Life) -> None:
    text = said(life, "BreachResponded")
    assert str(life.events["BreachReported"].breach.breach_id) in text
    assert "detention" in text


def test_an_escalation_names_its_target_and_its_acknowledgement_names_it(life: Life) -> None:
    escalation_id = life.events["Escalated"].escalation.escalation_id
    assert str(escalation_id) in said(life, "Escalated")
    assert "court" in said(life, "Escalated")
    assert str(escalation_id) in said(life, "EscalationAcknowledged")
    assert "acknowledged" in said(life, "EscalationAcknowledged")


def test_an_extension_names_the_new_end_and_the_policy(life: Life) -> None:
    text = said(life, "Extended")
    assert minute(EXTENDED_UNTIL) in text
    assert POLICY.version in text


def test_a_modification_names_the_conditions_and_how_many_persons_are_covered(
    life: Life,
) -> None:
    text = said(life, "Modified")
    assert "no_contact" in text
    assert "no_firearms" in text
    assert "1 person" in text


def test_a_revocation_and_an_expiry_say_so(life: Life) -> None:
    assert "revoked" in said(life, "Revoked")
    assert "expired" in said(life, "Expired")
    assert minute(SECOND_ORDER_ENDS) in said(life, "Expired")


def test_a_death_names_the_person_by_id_only(life: Life) -> None:
    text = said(life, "ProtectedPersonDied")
    assert "p2" in text
    assert "death" in text


def test_a_flag_names_the_rule_and_the_event_and_its_review_the_decision(life: Life) -> None:
    flagged = said(life, "ReportFlagged")
    assert "backdated" in flagged
    assert names_number(flagged, life.events["InspectionVisitRecorded"].originator_version)
    assert "29.0 h" in flagged  # the detector's evidence, written to be shown
    assert "(moderate)" in flagged  # and how strongly it points to a forgery
    reviewed = said(life, "FindingReviewed")
    assert str(life.events["ReportFlagged"].finding.finding_id) in reviewed
    assert "dismissed" in reviewed


# Nothing sensitive


def test_no_summary_repeats_a_name_narrative_address_note_reason_or_description(
    life: Life,
) -> None:
    for event in life.all:
        text = summary(event)
        assert "canary" not in text.lower(), (type(event).__name__, text)
        for what, planted in SENSITIVE.items():
            assert planted not in text, (type(event).__name__, what)


# Claimed times


CLAIMED = {
    "Requested": INCIDENT_AT,
    "Served": SERVED_AT,
    "InspectionVisitRecorded": VISITED_AT,
    "BreachReported": BREACH_AT,
    "BreachResponded": RESPONDED_AT,
    "ProtectedPersonDied": DIED_AT,
}


def test_claimed_time_is_the_time_a_person_claims_for_what_the_event_records(
    life: Life,
) -> None:
    for event_type, claimed in CLAIMED.items():
        event = life.events[event_type]
        assert claimed_time(event) == claimed, event_type
        assert claimed != event.timestamp  # not the time it was recorded


def test_events_that_claim_no_time_have_none(life: Life) -> None:
    for event_type in sorted(set(EVERY_EVENT_TYPE) - set(CLAIMED)):
        assert claimed_time(life.events[event_type]) is None, event_type
