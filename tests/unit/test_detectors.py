"""The falsification detectors, rule by rule: what each flags, what it spares, what it says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from orders.detectors import (
    RULES,
    Context,
    Report,
    backdated,
    batch_entry,
    claims_alerted_window,
    claims_before_incident,
    code_not_hers,
    distance_km,
    examine,
    far_from_protected_location,
    impossible_travel,
    no_proof_on_high_threat,
)
from orders.domain import ProtectionOrder
from orders.policy import DetectorRules, load_policy
from orders.presence import Proof, Verdict
from orders.values import (
    SYSTEM_ACTOR,
    EscalationTarget,
    Location,
    LocationKind,
    OrderKind,
    Position,
    RiskLevel,
    Visit,
)
from tests.factories import INSPECTOR, LOW_RISK_ANSWERS, SOCIAL_WORKER, a_request, a_visit, terms

POLICY = load_policy()
THRESHOLDS = POLICY.detectors  # backdated after 24 h, 5 reports in 10 min, 80 km/h, 2 km
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
SECOND, MINUTE = timedelta(seconds=1), timedelta(minutes=1)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

# Sensitive content that no evidence may repeat.
ADDRESS = "Toktogul St 14, flat 9"
NARRATIVE = "He held a knife to her throat in the hallway"
NOTES = "She showed me the bruises on her arm"
HOME = Position(42.874321, 74.612345)  # in Bishkek
PROVEN = Proof(Verdict.PROVEN, uuid4(), 1)  # a code she gave, checked
OSH = Position(40.528312, 72.798523)  # some 300 km away
KM_PER_DEGREE_OF_LATITUDE = 111.195  # on a sphere of the Earth's mean radius


def north_of(position: Position, km: float) -> Position:
    return Position(position.latitude + km / KM_PER_DEGREE_OF_LATITUDE, position.longitude)


def an_order(
    *,
    level: RiskLevel = RiskLevel.MEDIUM,
    locations: tuple[Location, ...] = (Location(LocationKind.HOME, ADDRESS, HOME),),
) -> ProtectionOrder:
    """A court order issued at T0 for half a year; its first protected person lives at HOME."""
    request = a_request(T0)
    mother, child = request.protected_persons
    request = replace(
        request,
        protected_persons=(replace(mother, locations=locations), child),
        incident_narrative=NARRATIVE,
    )
    order = ProtectionOrder.open(request, by=SOCIAL_WORKER, at=T0, policy=POLICY)
    order.assess_risk(
        LOW_RISK_ANSWERS,
        final_level=level,
        reason="" if level is RiskLevel.LOW else "threats by phone since the interview",
        by=INSPECTOR,
        at=T0,
        policy=POLICY,
    )
    order.issue(terms(T0, kind=OrderKind.COURT), by=INSPECTOR, at=T0, policy=POLICY)
    return order


def filed(order: ProtectionOrder, visit: Visit, *, at: datetime) -> Report:
    """Record the visit on the order, and return the report as the detectors will see it."""
    order.record_visit(visit, by=INSPECTOR, at=at, policy=POLICY)
    return Report(order.id, order.version, INSPECTOR.id, visit, at)


def elsewhere(visit: Visit, *, at: datetime) -> Report:
    """The same inspector's report on another order."""
    return Report(uuid4(), 4, INSPECTOR.id, visit, at)


def seen(
    order: ProtectionOrder, others: list[Report] | None = None, rules: DetectorRules = THRESHOLDS
) -> Context:
    return Context(order, others or [], rules)


# backdated


def test_a_report_recorded_over_a_day_after_the_visit_it_claims_is_backdated() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + HOUR), at=T0 + 27 * HOUR)
    evidence = backdated(report, seen(order))
    assert evidence is not None
    assert "26.0 h" in evidence
    assert "24.0 h" in evidence  # the threshold


def test_a_report_recorded_exactly_a_day_after_its_visit_is_not_backdated() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + HOUR), at=T0 + HOUR + THRESHOLDS.backdated_after)
    assert backdated(report, seen(order)) is None
    later = filed(order, a_visit(T0 + HOUR), at=T0 + HOUR + THRESHOLDS.backdated_after + SECOND)
    assert backdated(later, seen(order)) is not None


def test_a_report_recorded_soon_after_its_visit_is_not_backdated() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + HOUR), at=T0 + 2 * HOUR)
    assert backdated(report, seen(order)) is None


# claims_alerted_window


WEEK = 7 * DAY  # a high-threat order's check-in cadence
ALERTED = T0 + WEEK + 3 * HOUR  # after the first window's deadline (due + 2 h grace)


def an_order_whose_first_check_in_was_missed() -> ProtectionOrder:
    order = an_order(level=RiskLevel.HIGH)
    assert order.scheduled.due == T0 + WEEK
    order.record_missed_check_in(by=SYSTEM_ACTOR, at=ALERTED, policy=POLICY)
    return order


def test_a_visit_claimed_in_a_window_already_alerted_as_missed_is_flagged() -> None:
    order = an_order_whose_first_check_in_was_missed()
    report = filed(order, a_visit(T0 + 6 * DAY), at=ALERTED + HOUR)
    evidence = claims_alerted_window(report, seen(order))
    assert evidence is not None
    assert (T0 + 6 * DAY).isoformat() in evidence  # the claimed visit
    assert (T0 + WEEK).isoformat() in evidence  # the window's due time
    assert ALERTED.isoformat() in evidence  # when the missed check-in was recorded


def test_the_alerted_window_runs_from_after_its_opening_up_to_its_due_time() -> None:
    order = an_order_whose_first_check_in_was_missed()
    at_due = filed(order, a_visit(T0 + WEEK), at=ALERTED + HOUR)
    at_opening = filed(order, a_visit(T0), at=ALERTED + HOUR)
    after_due = filed(order, a_visit(T0 + WEEK + MINUTE), at=ALERTED + HOUR)
    assert claims_alerted_window(at_due, seen(order)) is not None
    assert claims_alerted_window(at_opening, seen(order)) is None
    assert claims_alerted_window(after_due, seen(order)) is None


def test_a_report_recorded_at_the_moment_of_the_alert_is_not_flagged_for_it() -> None:
    order = an_order_whose_first_check_in_was_missed()
    report = filed(order, a_visit(T0 + 6 * DAY), at=ALERTED)
    assert claims_alerted_window(report, seen(order)) is None


def test_a_visit_in_a_window_that_was_met_in_time_is_not_flagged() -> None:
    order = an_order(level=RiskLevel.HIGH)
    report = filed(order, a_visit(T0 + 6 * DAY), at=T0 + 6 * DAY + HOUR)
    assert claims_alerted_window(report, seen(order)) is None


# claims_before_incident


BREACH_AT = T0 + 2 * DAY
BREACH_REPORTED = BREACH_AT + HOUR


def an_order_with_a_breach() -> ProtectionOrder:
    order = an_order()
    order.report_breach(
        occurred_at=BREACH_AT,
        description="He waited for her outside the school",
        by=INSPECTOR,
        at=BREACH_REPORTED,
        policy=POLICY,
    )
    return order


def test_a_visit_claimed_before_a_breach_but_filed_after_its_report_is_flagged() -> None:
    order = an_order_with_a_breach()
    report = filed(order, a_visit(BREACH_AT - HOUR), at=BREACH_REPORTED + 2 * HOUR)
    evidence = claims_before_incident(report, seen(order))
    assert evidence is not None
    assert "breach" in evidence
    assert BREACH_AT.isoformat() in evidence
    assert BREACH_REPORTED.isoformat() in evidence
    assert (BREACH_AT - HOUR).isoformat() in evidence


def test_a_visit_claimed_at_or_after_the_breach_is_not_flagged() -> None:
    order = an_order_with_a_breach()
    at_breach = filed(order, a_visit(BREACH_AT), at=BREACH_REPORTED + 2 * HOUR)
    after = filed(order, a_visit(BREACH_REPORTED + HOUR), at=BREACH_REPORTED + 2 * HOUR)
    assert claims_before_incident(at_breach, seen(order)) is None
    assert claims_before_incident(after, seen(order)) is None


def test_a_visit_filed_at_the_moment_the_breach_was_reported_is_not_flagged() -> None:
    order = an_order_with_a_breach()
    report = filed(order, a_visit(BREACH_AT - HOUR), at=BREACH_REPORTED)
    assert claims_before_incident(report, seen(order)) is None


def test_a_visit_claimed_before_a_reported_death_is_flagged() -> None:
    order = an_order()
    died_at = T0 + DAY
    order.report_death("p1", died_at=died_at, by=INSPECTOR, at=died_at + 2 * HOUR, policy=POLICY)
    report = filed(order, a_visit(died_at - HOUR), at=died_at + 4 * HOUR)
    evidence = claims_before_incident(report, seen(order))
    assert evidence is not None
    assert "death" in evidence
    assert died_at.isoformat() in evidence


def test_a_visit_claimed_before_an_escalation_but_filed_after_it_is_flagged() -> None:
    order = an_order()
    escalated_at = T0 + DAY
    order.escalate(
        target=EscalationTarget.PROSECUTOR,
        reason="No visit for a week",
        by=SOCIAL_WORKER,
        at=escalated_at,
        policy=POLICY,
    )
    report = filed(order, a_visit(escalated_at - 30 * MINUTE), at=escalated_at + HOUR)
    evidence = claims_before_incident(report, seen(order))
    assert evidence is not None
    assert "escalation" in evidence


# no_proof_on_high_threat


def a_visit_without_proof(at: datetime) -> Visit:
    return a_visit(at, position=None)


@pytest.mark.parametrize("level", [RiskLevel.HIGH, RiskLevel.EXTREME])
def test_a_visit_without_code_or_position_on_a_high_threat_order_is_flagged(
    level: RiskLevel,
) -> None:
    order = an_order(level=level)
    report = filed(order, a_visit_without_proof(T0 + HOUR), at=T0 + 2 * HOUR)
    evidence = no_proof_on_high_threat(report, seen(order))
    assert evidence is not None
    assert f"{level}-threat" in evidence


@pytest.mark.parametrize("level", [RiskLevel.LOW, RiskLevel.MEDIUM])
def test_a_visit_without_proof_on_a_lower_threat_order_is_not_flagged(level: RiskLevel) -> None:
    order = an_order(level=level)
    report = filed(order, a_visit_without_proof(T0 + HOUR), at=T0 + 2 * HOUR)
    assert no_proof_on_high_threat(report, seen(order)) is None


def test_a_code_from_the_person_or_a_position_is_proof_enough() -> None:
    order = an_order(level=RiskLevel.EXTREME)
    with_code = filed(order, a_visit(T0 + HOUR, proof=PROVEN), at=T0 + 2 * HOUR)
    with_position = filed(order, a_visit(T0 + HOUR, position=HOME), at=T0 + 2 * HOUR)
    assert no_proof_on_high_threat(with_code, seen(order)) is None
    assert no_proof_on_high_threat(with_position, seen(order)) is None


# code_not_hers


@pytest.mark.parametrize(
    ("verdict", "said"),
    [
        (Verdict.WRONG, "is none of the protected person's codes"),
        (Verdict.REUSED, "was already given for another visit"),
        (Verdict.REVOKED, "comes from a secret replaced before the visit it claims"),
        (Verdict.OUT_OF_TIME, "was made at another time than the visit it claims (26.0 h after)"),
    ],
)
def test_a_code_that_does_not_prove_the_visit_is_a_finding(verdict: Verdict, said: str) -> None:
    order = an_order(level=RiskLevel.MEDIUM)
    proof = Proof(verdict, uuid4(), 1, 26 * 60)
    report = filed(order, a_visit(T0 + HOUR, proof=proof), at=T0 + 2 * HOUR)
    assert code_not_hers(report, seen(order)) == f"the code given {said}"


@pytest.mark.parametrize("verdict", [Verdict.PROVEN, Verdict.UNVERIFIABLE])
def test_a_proven_or_uncheckable_code_is_no_finding(verdict: Verdict) -> None:
    order = an_order(level=RiskLevel.MEDIUM)
    report = filed(order, a_visit(T0 + HOUR, proof=Proof(verdict)), at=T0 + 2 * HOUR)
    assert code_not_hers(report, seen(order)) is None


# far_from_protected_location


def test_a_visit_more_than_two_km_from_the_home_is_flagged() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + HOUR, position=north_of(HOME, 2.1)), at=T0 + 2 * HOUR)
    evidence = far_from_protected_location(report, seen(order))
    assert evidence is not None
    assert "2.1 km" in evidence
    assert "threshold 2 km" in evidence


def test_a_visit_within_two_km_of_the_home_is_not_flagged() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + HOUR, position=north_of(HOME, 1.9)), at=T0 + 2 * HOUR)
    assert far_from_protected_location(report, seen(order)) is None


def test_a_visit_exactly_at_the_distance_threshold_is_not_flagged() -> None:
    order = an_order()
    there = north_of(HOME, 2.0)
    report = filed(order, a_visit(T0 + HOUR, position=there), at=T0 + 2 * HOUR)
    exactly = DetectorRules(far_from_location_km=distance_km(HOME, there))
    just_less = DetectorRules(far_from_location_km=distance_km(HOME, there) - 0.001)
    assert far_from_protected_location(report, seen(order, rules=exactly)) is None
    assert far_from_protected_location(report, seen(order, rules=just_less)) is not None


def test_the_nearest_known_location_of_any_protected_person_counts() -> None:
    order = an_order(
        locations=(
            Location(LocationKind.HOME, ADDRESS, OSH),
            Location(LocationKind.SHELTER, "Crisis centre", HOME),
        )
    )
    report = filed(order, a_visit(T0 + HOUR, position=north_of(HOME, 0.5)), at=T0 + 2 * HOUR)
    assert far_from_protected_location(report, seen(order)) is None


def test_without_a_known_position_for_the_persons_or_the_visit_nothing_is_flagged() -> None:
    addresses_only = an_order(locations=(Location(LocationKind.HOME, ADDRESS),))
    report = filed(addresses_only, a_visit(T0 + HOUR, position=OSH), at=T0 + 2 * HOUR)
    assert far_from_protected_location(report, seen(addresses_only)) is None
    order = an_order()
    no_position = filed(order, a_visit(T0 + HOUR, position=None), at=T0 + 2 * HOUR)
    assert far_from_protected_location(no_position, seen(order)) is None


# impossible_travel


ONE_DEGREE_NORTH = north_of(HOME, KM_PER_DEGREE_OF_LATITUDE)  # 111.2 km


def test_two_visits_needing_more_than_80_kmh_between_them_are_flagged() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + HOUR, position=HOME), at=T0 + 4 * HOUR)
    other = elsewhere(a_visit(T0 + HOUR + 80 * MINUTE, position=ONE_DEGREE_NORTH), at=T0 + 4 * HOUR)
    evidence = impossible_travel(report, seen(order, [other]))  # 111.2 km in 80 min: 83 km/h
    assert evidence is not None
    assert "111.2 km" in evidence
    assert "80 min" in evidence
    assert str(other.order_id) in evidence
    assert "80 km/h" in evidence


def test_two_visits_reachable_below_80_kmh_are_not_flagged() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + HOUR, position=HOME), at=T0 + 4 * HOUR)
    other = elsewhere(a_visit(T0 + HOUR + 90 * MINUTE, position=ONE_DEGREE_NORTH), at=T0 + 4 * HOUR)
    assert impossible_travel(report, seen(order, [other])) is None  # 74 km/h


def test_visits_claimed_at_the_same_moment_count_as_a_minute_apart() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + HOUR, position=HOME), at=T0 + 2 * HOUR)
    one_km = elsewhere(a_visit(T0 + HOUR, position=north_of(HOME, 1.0)), at=T0 + 2 * HOUR)
    two_km = elsewhere(a_visit(T0 + HOUR, position=north_of(HOME, 2.0)), at=T0 + 2 * HOUR)
    assert impossible_travel(report, seen(order, [one_km])) is None  # 60 km/h
    assert impossible_travel(report, seen(order, [two_km])) is not None  # 120 km/h


def test_travel_is_not_judged_without_both_positions() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + HOUR, position=HOME), at=T0 + 2 * HOUR)
    no_position_there = elsewhere(a_visit(T0 + HOUR, position=None), at=T0 + 2 * HOUR)
    assert impossible_travel(report, seen(order, [no_position_there])) is None
    no_position_here = filed(order, a_visit(T0 + HOUR, position=None), at=T0 + 2 * HOUR)
    far_away = elsewhere(a_visit(T0 + HOUR, position=OSH), at=T0 + 2 * HOUR)
    assert impossible_travel(no_position_here, seen(order, [far_away])) is None


# batch_entry


RECORDED = T0 + 5 * HOUR


def others_recorded(*before: timedelta) -> list[Report]:
    """The inspector's reports on other orders, recorded `before` this one's recording."""
    return [elsewhere(a_visit(T0 + HOUR), at=RECORDED - ago) for ago in before]


def test_five_reports_by_one_inspector_within_ten_minutes_are_a_batch() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + 4 * HOUR), at=RECORDED)
    evidence = batch_entry(
        report, seen(order, others_recorded(MINUTE, 2 * MINUTE, 5 * MINUTE, 9 * MINUTE))
    )
    assert evidence is not None
    assert "5 visit reports" in evidence
    assert "10 minutes" in evidence


def test_four_reports_within_ten_minutes_are_not_a_batch() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + 4 * HOUR), at=RECORDED)
    others = others_recorded(MINUTE, 2 * MINUTE, 5 * MINUTE)
    assert batch_entry(report, seen(order, others)) is None


def test_the_batch_window_includes_its_first_moment_and_nothing_before() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + 4 * HOUR), at=RECORDED)
    window = THRESHOLDS.batch_window
    on_the_edge = others_recorded(MINUTE, 2 * MINUTE, 3 * MINUTE, window)
    just_outside = others_recorded(MINUTE, 2 * MINUTE, 3 * MINUTE, window + SECOND)
    assert batch_entry(report, seen(order, on_the_edge)) is not None
    assert batch_entry(report, seen(order, just_outside)) is None


def test_reports_recorded_after_this_one_do_not_make_it_part_of_a_batch() -> None:
    order = an_order()
    report = filed(order, a_visit(T0 + 4 * HOUR), at=RECORDED)
    others = others_recorded(MINUTE, 2 * MINUTE, -MINUTE, -2 * MINUTE)
    assert batch_entry(report, seen(order, others)) is None


# examine


def test_an_honest_report_raises_no_finding() -> None:
    order = an_order(level=RiskLevel.HIGH)
    visit = a_visit(T0 + HOUR, position=north_of(HOME, 0.2), notes=NOTES)
    report = filed(order, visit, at=T0 + 2 * HOUR)
    earlier = elsewhere(a_visit(T0 - 4 * HOUR, position=OSH), at=T0 - 3 * HOUR)  # 60 km/h
    assert examine(report, seen(order, [earlier])) == []


def test_examine_names_each_rule_that_fired_with_its_evidence() -> None:
    order = an_order(level=RiskLevel.HIGH)
    report = filed(order, a_visit_without_proof(T0 + HOUR), at=T0 + 26 * HOUR)
    context = seen(order)
    assert examine(report, context) == [
        ("backdated", backdated(report, context)),
        ("no_proof_on_high_threat", no_proof_on_high_threat(report, context)),
    ]


def test_no_evidence_repeats_an_address_a_position_a_narrative_or_notes() -> None:
    # Two reports that between them trip every rule, on an order full of sensitive content.
    order = an_order_whose_first_check_in_was_missed()
    order.report_breach(
        occurred_at=T0 + 6 * DAY + 12 * HOUR,
        description="He broke the door",
        by=INSPECTOR,
        at=T0 + 6 * DAY + 13 * HOUR,
        policy=POLICY,
    )
    recorded = ALERTED + 2 * HOUR
    claimed = T0 + 6 * DAY
    out_of_time = Proof(Verdict.OUT_OF_TIME, uuid4(), 1, 26 * 60)
    at_osh = filed(
        order, a_visit(claimed, notes=NOTES, position=OSH, proof=out_of_time), at=recorded
    )
    unproven = filed(order, a_visit(claimed, notes=NOTES), at=recorded)
    others = [
        elsewhere(a_visit(claimed + 10 * MINUTE, notes=NOTES, position=HOME), at=recorded - ago)
        for ago in (MINUTE, 2 * MINUTE, 3 * MINUTE, 4 * MINUTE)
    ]
    findings = examine(at_osh, seen(order, others)) + examine(unproven, seen(order, others))
    assert {rule for rule, _ in findings} == set(RULES)
    sensitive = [ADDRESS, NARRATIVE, NOTES, "Aizada", "Emir", "Ruslan"]
    for position in (HOME, OSH):
        sensitive += [f"{position.latitude:.3f}", f"{position.longitude:.3f}"]
    for rule, evidence in findings:
        for text in sensitive:
            assert text not in evidence, (rule, text)


# distance_km


def test_a_quarter_meridian_is_about_ten_thousand_km() -> None:
    # The WGS 84 meridian is 20,003.93 km long (Weintrit 2013, cited by Wikipedia's
    # "Meridian (geography)"); a sphere of the mean radius is within 0.1 % of its quarter.
    equator_to_pole = distance_km(Position(0.0, 0.0), Position(90.0, 0.0))
    assert equator_to_pole == pytest.approx(20003.93 / 2, rel=0.001)


def test_nashville_to_los_angeles_is_the_rosetta_code_haversine_distance() -> None:
    # Rosetta Code, "Haversine formula": BNA (36.12, -86.67) to LAX (33.94, -118.40) is
    # 2886.44444 km on a sphere of radius 6371.0 km; ours is 6371.0088 km (IUGG mean radius).
    bna, lax = Position(36.12, -86.67), Position(33.94, -118.40)
    assert distance_km(bna, lax) == pytest.approx(2886.44444 * 6371.0088 / 6371.0, abs=0.001)


def test_distance_is_symmetric_and_zero_to_the_same_place() -> None:
    assert distance_km(HOME, OSH) == pytest.approx(distance_km(OSH, HOME))
    assert distance_km(HOME, HOME) == 0.0
