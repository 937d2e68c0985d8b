"""The falsification detectors on one report: what shows presence, what each rule flags, how
strongly, what it spares and what it says. The rules over several reports: test_patterns.py."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from uuid import uuid4

import pytest

from orders.detectors import (
    RULES,
    claims_before_incident,
    cover_up,
    examine,
    no_proof,
    presence,
)
from orders.domain import ProtectionOrder
from orders.evidence import Context, Presence, Report, Shown, distance_km
from orders.policy import DetectorRules, PolicyFileError, load_policy
from orders.presence import Proof, Verdict
from orders.transcoding import ValueAsDict
from orders.values import (
    SYSTEM_ACTOR,
    EscalationTarget,
    Finding,
    Location,
    LocationKind,
    OrderKind,
    Position,
    RiskLevel,
    Strength,
    Visit,
    VisitOutcome,
)
from tests.factories import INSPECTOR, LOW_RISK_ANSWERS, SOCIAL_WORKER, a_request, a_visit, terms

POLICY = load_policy()
THRESHOLDS = POLICY.detectors
CODES = THRESHOLDS.model_copy(update={"codes_expected": True})
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# Sensitive content that no evidence may repeat.
ADDRESS = "Toktogul St 14, flat 9"
NARRATIVE = "He held a knife to her throat in the hallway"
NOTES = "She showed me the bruises on her arm"
CODE = Proof(Verdict.PROVEN, uuid4(), 1)  # a code of hers that proved the visit
HOME = Position(42.874321, 74.612345)  # in Bishkek
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


def visit(at: datetime, **changes: object) -> Visit:
    """A visit that met her, with no code and no position unless given."""
    return a_visit(at, **changes)


def filed(
    order: ProtectionOrder, report: Visit, *, at: datetime, rules: DetectorRules = THRESHOLDS
) -> Report:
    """Record the visit on the order, and return the report as the detectors will see it."""
    order.record_visit(report, by=INSPECTOR, at=at, policy=POLICY)
    return Report(order.id, order.version, INSPECTOR.id, report, at, presence(report, order, rules))


def seen(order: ProtectionOrder, rules: DetectorRules = THRESHOLDS) -> Context:
    return Context(order, [], rules)


# presence


def test_a_code_from_her_proves_presence_wherever_the_phone_was() -> None:
    order = an_order()
    shown = presence(visit(T0, proof=CODE, position=OSH), order, THRESHOLDS)
    assert shown.shown is Shown.CODE
    assert shown.proven


def test_a_position_near_her_proves_presence_until_codes_are_expected() -> None:
    order = an_order()
    near = visit(T0, position=north_of(HOME, 0.4))
    today = presence(near, order, THRESHOLDS)
    assert (today.shown, today.proven) == (Shown.NEAR, True)
    assert today.km == pytest.approx(0.4, abs=0.001)
    with_codes = presence(near, order, CODES)
    assert (with_codes.shown, with_codes.proven, with_codes.code_expected) == (
        Shown.NEAR,
        False,
        True,
    )


def test_a_position_beyond_the_near_distance_is_far_and_proves_nothing() -> None:
    order = an_order()
    just_in = presence(visit(T0, position=north_of(HOME, 0.49)), order, THRESHOLDS)
    just_out = presence(visit(T0, position=north_of(HOME, 0.51)), order, THRESHOLDS)
    assert just_in.shown is Shown.NEAR
    assert (just_out.shown, just_out.proven) == (Shown.FAR, False)


def test_without_a_position_or_a_known_location_nothing_is_proven() -> None:
    none = presence(visit(T0), an_order(), THRESHOLDS)
    assert (none.shown, none.proven, none.km) == (Shown.NONE, False, None)
    addresses_only = an_order(locations=(Location(LocationKind.HOME, ADDRESS),))
    unplaced = presence(visit(T0, position=HOME), addresses_only, THRESHOLDS)
    assert (unplaced.shown, unplaced.proven) == (Shown.UNPLACED, False)


def test_the_nearest_known_location_of_any_protected_person_counts() -> None:
    order = an_order(
        locations=(
            Location(LocationKind.HOME, ADDRESS, OSH),
            Location(LocationKind.SHELTER, "Crisis centre", HOME),
        )
    )
    shown = presence(visit(T0, position=north_of(HOME, 0.2)), order, THRESHOLDS)
    assert shown.shown is Shown.NEAR


def test_presence_reads_as_words_and_distances() -> None:
    assert str(Presence(Shown.CODE, 3.0, proven=True)) == "a code from the protected person"
    assert str(Presence(Shown.FAR, 3.04)) == (
        "a position 3.0 km from the protected persons' nearest known location"
    )
    assert str(Presence(Shown.NONE)) == "no code from the protected person and no position"


# cover_up


WEEK = 7 * DAY  # a high-threat order's check-in cadence
ALERTED = T0 + WEEK + 3 * HOUR  # after the first window's deadline (due + 2 h grace)


def an_order_whose_first_check_in_was_missed() -> ProtectionOrder:
    order = an_order(level=RiskLevel.HIGH)
    assert order.scheduled.due == T0 + WEEK
    order.record_missed_check_in(by=SYSTEM_ACTOR, at=ALERTED, policy=POLICY)
    return order


def test_an_unproven_visit_claimed_in_a_window_already_alerted_is_a_cover_up() -> None:
    order = an_order_whose_first_check_in_was_missed()
    report = filed(order, visit(T0 + 6 * DAY), at=ALERTED + 30 * HOUR)
    (found,) = cover_up(report, seen(order))
    assert found.report == report
    assert found.strength is Strength.STRONG
    assert "filed 30.0 h after the missed check-in" in found.evidence
    assert "window due 2026-03-09 09:00 UTC" in found.evidence
    assert "at 2026-03-08 09:00 UTC" in found.evidence  # the claimed visit
    assert "no code from the protected person and no position" in found.evidence


def test_a_late_report_with_a_position_near_her_is_late_not_forged() -> None:
    order = an_order_whose_first_check_in_was_missed()
    near = filed(order, visit(T0 + 6 * DAY, position=HOME), at=ALERTED + HOUR)
    coded = filed(order, visit(T0 + 6 * DAY, proof=CODE), at=ALERTED + HOUR)
    far = filed(order, visit(T0 + 6 * DAY, position=north_of(HOME, 3)), at=ALERTED + HOUR)
    assert cover_up(near, seen(order)) == []
    assert cover_up(coded, seen(order)) == []
    assert cover_up(far, seen(order)) != []


def test_once_codes_are_expected_a_position_near_her_no_longer_covers_an_alert() -> None:
    order = an_order_whose_first_check_in_was_missed()
    near = filed(order, visit(T0 + 6 * DAY, position=HOME), at=ALERTED + HOUR, rules=CODES)
    (found,) = cover_up(near, seen(order, CODES))
    assert "a position 0.0 km from the protected persons' nearest known location" in found.evidence


def test_the_alerted_window_runs_from_after_its_opening_up_to_its_due_time() -> None:
    order = an_order_whose_first_check_in_was_missed()
    at_due = filed(order, visit(T0 + WEEK), at=ALERTED + HOUR)
    at_opening = filed(order, visit(T0), at=ALERTED + HOUR)
    after_due = filed(order, visit(T0 + WEEK + MINUTE), at=ALERTED + HOUR)
    assert cover_up(at_due, seen(order)) != []
    assert cover_up(at_opening, seen(order)) == []
    assert cover_up(after_due, seen(order)) == []


def test_a_report_recorded_at_the_moment_of_the_alert_is_no_cover_up() -> None:
    order = an_order_whose_first_check_in_was_missed()
    report = filed(order, visit(T0 + 6 * DAY), at=ALERTED)
    assert cover_up(report, seen(order)) == []


def test_an_unproven_visit_in_a_window_that_was_met_in_time_is_no_cover_up() -> None:
    order = an_order(level=RiskLevel.HIGH)
    report = filed(order, visit(T0 + 6 * DAY), at=T0 + 6 * DAY + HOUR)
    assert cover_up(report, seen(order)) == []


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


def test_an_unproven_visit_claimed_before_a_breach_but_filed_after_its_report_is_flagged() -> None:
    order = an_order_with_a_breach()
    report = filed(order, visit(BREACH_AT - HOUR), at=BREACH_REPORTED + 2 * HOUR)
    (found,) = claims_before_incident(report, seen(order))
    assert found.strength is Strength.STRONG
    assert "filed after the breach of 2026-03-04 09:00 UTC was reported" in found.evidence
    assert "(at 2026-03-04 10:00 UTC)" in found.evidence
    assert "claiming a visit before it, at 2026-03-04 08:00 UTC" in found.evidence


def test_a_proven_visit_before_a_breach_is_not_flagged() -> None:
    order = an_order_with_a_breach()
    near = filed(order, visit(BREACH_AT - HOUR, position=HOME), at=BREACH_REPORTED + HOUR)
    assert claims_before_incident(near, seen(order)) == []


def test_a_visit_claimed_at_or_after_the_breach_is_not_flagged() -> None:
    order = an_order_with_a_breach()
    at_breach = filed(order, visit(BREACH_AT), at=BREACH_REPORTED + 2 * HOUR)
    after = filed(order, visit(BREACH_REPORTED + HOUR), at=BREACH_REPORTED + 2 * HOUR)
    assert claims_before_incident(at_breach, seen(order)) == []
    assert claims_before_incident(after, seen(order)) == []


def test_a_visit_filed_at_the_moment_the_breach_was_reported_is_not_flagged() -> None:
    order = an_order_with_a_breach()
    report = filed(order, visit(BREACH_AT - HOUR), at=BREACH_REPORTED)
    assert claims_before_incident(report, seen(order)) == []


def test_an_unproven_visit_claimed_before_a_reported_death_is_flagged() -> None:
    order = an_order()
    died_at = T0 + DAY
    order.report_death("p1", died_at=died_at, by=INSPECTOR, at=died_at + 2 * HOUR, policy=POLICY)
    report = filed(order, visit(died_at - HOUR), at=died_at + 4 * HOUR)
    (found,) = claims_before_incident(report, seen(order))
    assert "the death of 2026-03-03 09:00 UTC" in found.evidence


def test_an_unproven_visit_claimed_before_an_escalation_but_filed_after_it_is_flagged() -> None:
    order = an_order()
    escalated_at = T0 + DAY
    order.escalate(
        target=EscalationTarget.PROSECUTOR,
        reason="No visit for a week",
        by=SOCIAL_WORKER,
        at=escalated_at,
        policy=POLICY,
    )
    report = filed(order, visit(escalated_at - 30 * MINUTE), at=escalated_at + HOUR)
    (found,) = claims_before_incident(report, seen(order))
    assert "the escalation of" in found.evidence


# no_proof


def test_once_codes_are_expected_a_visit_that_met_her_without_a_code_is_unproven() -> None:
    order = an_order()
    bare = filed(order, visit(T0 + HOUR), at=T0 + 2 * HOUR, rules=CODES)
    near = filed(order, visit(T0 + HOUR, position=HOME), at=T0 + 2 * HOUR, rules=CODES)
    (found,) = no_proof(bare, seen(order, CODES))
    assert found.strength is Strength.MODERATE
    assert found.evidence == (
        "a visit said to have met the protected person, with no code from the protected "
        "person and no position"
    )
    (found,) = no_proof(near, seen(order, CODES))
    assert "a position 0.0 km from" in found.evidence
    assert found.evidence.endswith("but no code from her")


def test_a_visit_with_her_code_or_one_that_found_no_one_needs_no_code() -> None:
    order = an_order()
    coded = filed(order, visit(T0 + HOUR, proof=CODE), at=T0 + 2 * HOUR, rules=CODES)
    not_found = visit(T0 + HOUR, outcome=VisitOutcome.PERSON_NOT_FOUND, met_with=())
    nobody = filed(order, not_found, at=T0 + 2 * HOUR, rules=CODES)
    assert no_proof(coded, seen(order, CODES)) == []
    assert no_proof(nobody, seen(order, CODES)) == []


def test_until_codes_are_expected_a_visit_without_one_is_not_flagged_for_it() -> None:
    order = an_order(level=RiskLevel.EXTREME)
    bare = filed(order, visit(T0 + HOUR), at=T0 + 2 * HOUR)
    assert no_proof(bare, seen(order)) == []


# examine


def test_an_honest_report_raises_no_finding() -> None:
    order = an_order(level=RiskLevel.HIGH)
    near = visit(T0 + HOUR, position=north_of(HOME, 0.2), notes=NOTES)
    report = filed(order, near, at=T0 + 2 * HOUR)
    away = visit(T0 - HOUR, position=north_of(HOME, 40))  # 40 km, 2 h before: reachable
    earlier = Report(uuid4(), 4, INSPECTOR.id, away, T0 - 3 * HOUR, Presence(Shown.NEAR, 0.1))
    assert examine(report, Context(order, [earlier], THRESHOLDS)) == []


def test_examine_names_each_rule_that_fired_with_its_finding() -> None:
    order = an_order_whose_first_check_in_was_missed()
    order.report_breach(
        occurred_at=T0 + 6 * DAY + 12 * HOUR,
        description="He broke the door",
        by=INSPECTOR,
        at=T0 + 6 * DAY + 13 * HOUR,
        policy=POLICY,
    )
    report = filed(order, visit(T0 + 6 * DAY), at=ALERTED + HOUR, rules=CODES)
    context = seen(order, CODES)
    assert examine(report, context) == [
        ("cover_up", *cover_up(report, context)),
        ("claims_before_incident", *claims_before_incident(report, context)),
        ("no_proof", *no_proof(report, context)),
    ]


def test_every_rule_is_named_in_the_policy_docs_and_ranked() -> None:
    assert set(RULES) == {
        "code_not_hers",
        "cover_up",
        "claims_before_incident",
        "no_proof",
        "impossible_travel",
        "batch_entry",
        "one_place",
        "without_position",
    }
    assert [s.rank for s in (Strength.STRONG, Strength.MODERATE, Strength.WEAK)] == [0, 1, 2]


# findings


def test_a_finding_stored_before_strengths_were_graded_reads_back_as_moderate() -> None:
    stored = {
        "finding_id": str(uuid4()),
        "rule": "backdated",
        "evidence": "recorded 26.0 h after the visit time it claims",
        "flagged_version": 4,
        "decision": None,
    }
    assert ValueAsDict(Finding).decode(stored).strength is Strength.MODERATE


# the policy


def test_a_policy_naming_a_retired_threshold_is_refused_saying_why(tmp_path: Path) -> None:
    default = resources.files("orders").joinpath("default_policy.toml").read_text()
    old = tmp_path / "policy.toml"
    old.write_text(default.replace("[detectors]\n", '[detectors]\nbackdated_after = "PT24H"\n'))
    with pytest.raises(PolicyFileError, match=r"backdated_after is retired \(delay alone"):
        load_policy(old)


def test_the_default_policy_sets_every_detector_threshold_explicitly() -> None:
    default = resources.files("orders").joinpath("default_policy.toml").read_text()
    section = tomllib.loads(default)["detectors"]
    assert set(section) == set(DetectorRules.model_fields)


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
