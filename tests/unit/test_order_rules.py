"""The rules of an order's life on the aggregate alone: each refusal is named, changes nothing."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from orders import errors
from orders.domain import ProtectionOrder
from orders.policy import load_policy
from orders.values import (
    SYSTEM_ACTOR,
    BreachResponseKind,
    EscalationTarget,
    OrderKind,
    RiskLevel,
    ServiceMethod,
    Status,
    Strength,
)
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
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def requested() -> ProtectionOrder:
    return ProtectionOrder.open(a_request(T0), by=SOCIAL_WORKER, at=T0, policy=POLICY)


def issued(answers: dict[str, bool] = HIGH_RISK_ANSWERS, **term_changes: object) -> ProtectionOrder:
    order = requested()
    order.assess_risk(answers, final_level=None, reason="", by=INSPECTOR, at=T0, policy=POLICY)
    order.issue(terms(T0, **term_changes), by=INSPECTOR, at=T0, policy=POLICY)
    return order


def check_in_due(order: ProtectionOrder) -> datetime | None:
    """When the issued order's pending check-in falls due (None: no more windows)."""
    assert order.check_ins is not None
    return order.check_ins.due


def refused(order: ProtectionOrder, error: type[Exception], command: object) -> None:
    """Assert the command raises `error` and leaves no new event behind."""
    before = len(order.pending_events)
    with pytest.raises(error):
        command()  # type: ignore[operator]
    assert len(order.pending_events) == before


def test_the_officer_may_raise_the_computed_risk_level_with_a_reason() -> None:
    order = requested()
    order.assess_risk(
        LOW_RISK_ANSWERS,
        final_level=RiskLevel.HIGH,
        reason="threats by phone",
        by=INSPECTOR,
        at=T0,
        policy=POLICY,
    )
    assert order.risk_level is RiskLevel.HIGH


def test_the_officer_may_never_lower_the_computed_risk_level() -> None:
    order = requested()
    refused(
        order,
        errors.RiskLevelLowered,
        lambda: order.assess_risk(
            HIGH_RISK_ANSWERS,
            final_level=RiskLevel.LOW,
            reason="seems calm",
            by=INSPECTOR,
            at=T0,
            policy=POLICY,
        ),
    )


def test_raising_the_level_needs_a_reason() -> None:
    order = requested()
    refused(
        order,
        errors.InvalidInput,
        lambda: order.assess_risk(
            LOW_RISK_ANSWERS,
            final_level=RiskLevel.EXTREME,
            reason=" ",
            by=INSPECTOR,
            at=T0,
            policy=POLICY,
        ),
    )


def test_an_order_cannot_be_issued_before_its_risk_is_assessed() -> None:
    order = requested()
    refused(
        order,
        errors.RiskNotAssessed,
        lambda: order.issue(terms(T0), by=INSPECTOR, at=T0, policy=POLICY),
    )


def test_an_order_cannot_be_issued_twice() -> None:
    order = issued()
    refused(
        order,
        errors.OrderAlreadyIssued,
        lambda: order.issue(terms(T0), by=INSPECTOR, at=T0, policy=POLICY),
    )


def test_issuing_copies_the_check_in_cadence_for_the_risk_level_from_the_policy() -> None:
    order = issued()
    assert order.check_ins is not None
    assert order.check_ins.every == POLICY.check_in_every[RiskLevel.HIGH]
    assert (
        order.terms is not None
        and order.terms.valid_until == T0 + POLICY.kinds[OrderKind.TEMPORARY].duration
    )
    event = order.pending_events[-1]
    assert isinstance(event, ProtectionOrder.Issued)
    assert event.policy_version == POLICY.version


def test_an_order_may_protect_only_persons_named_on_the_request() -> None:
    order = requested()
    order.assess_risk(
        HIGH_RISK_ANSWERS, final_level=None, reason="", by=INSPECTOR, at=T0, policy=POLICY
    )
    refused(
        order,
        errors.UnknownProtectedPerson,
        lambda: order.issue(
            terms(T0, protected_person_ids=("p1", "stranger")), by=INSPECTOR, at=T0, policy=POLICY
        ),
    )


def test_a_claimed_time_in_the_future_is_refused_beyond_the_tolerance() -> None:
    order = issued()
    order.record_visit(a_visit(T0 + 4 * timedelta(minutes=1)), by=INSPECTOR, at=T0, policy=POLICY)
    refused(
        order,
        errors.ClaimedTimeInFuture,
        lambda: order.record_visit(a_visit(T0 + HOUR), by=INSPECTOR, at=T0, policy=POLICY),
    )


def test_no_visit_is_recorded_on_an_order_that_is_not_in_force() -> None:
    order = requested()
    refused(
        order,
        errors.OrderNotInForce,
        lambda: order.record_visit(a_visit(T0), by=INSPECTOR, at=T0, policy=POLICY),
    )


def test_a_report_after_the_order_ended_is_taken_as_late_for_the_reporting_period() -> None:
    order = issued()  # temporary: ends after three days, its only window due then
    end = T0 + 3 * DAY
    order.expire(by=SYSTEM_ACTOR, at=end)
    until = end + POLICY.late_report_period
    order.record_visit(a_visit(end - HOUR), by=INSPECTOR, at=until, policy=POLICY)
    visit = order.pending_events[-1]
    assert isinstance(visit, ProtectionOrder.InspectionVisitRecorded)
    assert (visit.window, visit.claimed_window, visit.late) == (None, 1, True)
    assert order.late_reports == 1
    refused(
        order,
        errors.ReportingPeriodOver,
        lambda: order.record_visit(
            a_visit(end - HOUR), by=INSPECTOR, at=until + timedelta(seconds=1), policy=POLICY
        ),
    )


def test_a_report_within_the_grace_after_the_end_still_meets_the_last_window() -> None:
    order = issued()
    end = T0 + 3 * DAY
    order.expire(by=SYSTEM_ACTOR, at=end)
    order.record_visit(a_visit(end - HOUR), by=INSPECTOR, at=end + HOUR, policy=POLICY)
    visit = order.pending_events[-1]
    assert isinstance(visit, ProtectionOrder.InspectionVisitRecorded)
    assert (visit.window, visit.late) == (1, False)


def test_a_report_on_a_revoked_order_must_claim_a_time_before_the_revocation() -> None:
    order = issued()
    order.revoke(reason="court set it aside", by=SUPERVISOR, at=T0 + DAY)
    refused(
        order,
        errors.ClaimedTimeOutOfRange,
        lambda: order.record_visit(
            a_visit(T0 + DAY + HOUR), by=INSPECTOR, at=T0 + 2 * DAY, policy=POLICY
        ),
    )
    order.record_visit(a_visit(T0 + DAY - HOUR), by=INSPECTOR, at=T0 + 2 * DAY, policy=POLICY)
    assert order.late_reports == 1
    refused(
        order,
        errors.ReportingPeriodOver,
        lambda: order.record_visit(
            a_visit(T0 + HOUR), by=INSPECTOR, at=T0 + 5 * DAY, policy=POLICY
        ),
    )


def test_a_visit_claiming_a_time_before_the_order_began_is_refused() -> None:
    order = issued()
    refused(
        order,
        errors.ClaimedTimeOutOfRange,
        lambda: order.record_visit(a_visit(T0 - HOUR), by=INSPECTOR, at=T0 + HOUR, policy=POLICY),
    )


def test_a_visit_naming_as_met_someone_not_on_the_request_is_refused() -> None:
    order = issued()
    stranger = a_visit(T0 + HOUR, met_with=("p1", "p9"))
    refused(
        order,
        errors.UnknownProtectedPerson,
        lambda: order.record_visit(stranger, by=INSPECTOR, at=T0 + 2 * HOUR, policy=POLICY),
    )
    both = a_visit(T0 + HOUR, met_with=("p1", "p2"))  # the child is on the request too
    order.record_visit(both, by=INSPECTOR, at=T0 + 2 * HOUR, policy=POLICY)
    assert order.version == 4


def test_an_extension_may_not_pass_the_policys_maximum() -> None:
    order = issued()
    most = POLICY.kinds[OrderKind.TEMPORARY].max_duration
    order.extend(
        valid_until=T0 + most, reason="still at risk", by=INSPECTOR, at=T0 + DAY, policy=POLICY
    )
    order2 = issued()
    refused(
        order2,
        errors.ExtensionBeyondMaximum,
        lambda: order2.extend(
            valid_until=T0 + most + DAY,
            reason="still at risk",
            by=INSPECTOR,
            at=T0 + DAY,
            policy=POLICY,
        ),
    )


def test_a_breach_response_may_not_precede_the_breach_nor_name_an_unknown_one() -> None:
    order = issued()
    breach_id = order.report_breach(
        occurred_at=T0 + DAY,
        description="he came to the house",
        by=INSPECTOR,
        at=T0 + DAY,
        policy=POLICY,
    )
    refused(
        order,
        errors.ClaimedTimeOutOfRange,
        lambda: order.respond_to_breach(
            breach_id,
            response=BreachResponseKind.WARNING,
            responded_at=T0 + DAY - HOUR,
            notes="",
            by=INSPECTOR,
            at=T0 + DAY,
            policy=POLICY,
        ),
    )
    refused(
        order,
        errors.BreachNotFound,
        lambda: order.respond_to_breach(
            uuid4(),
            response=BreachResponseKind.WARNING,
            responded_at=T0 + DAY,
            notes="",
            by=INSPECTOR,
            at=T0 + DAY,
            policy=POLICY,
        ),
    )


def test_a_breach_before_service_is_recorded_but_not_enforceable() -> None:
    order = issued()
    early = order.report_breach(
        occurred_at=T0 + HOUR, description="called her", by=INSPECTOR, at=T0 + HOUR, policy=POLICY
    )
    order.serve(
        served_at=T0 + 2 * HOUR,
        method=ServiceMethod.IN_PERSON,
        notes="",
        by=INSPECTOR,
        at=T0 + 2 * HOUR,
        policy=POLICY,
    )
    late = order.report_breach(
        occurred_at=T0 + 3 * HOUR,
        description="came to her work",
        by=INSPECTOR,
        at=T0 + 3 * HOUR,
        policy=POLICY,
    )
    assert not order.breaches[early].enforceable
    assert order.breaches[late].enforceable
    assert order.needs_reassessment


def test_an_order_is_served_only_once() -> None:
    order = issued()
    order.serve(
        served_at=T0, method=ServiceMethod.IN_PERSON, notes="", by=INSPECTOR, at=T0, policy=POLICY
    )
    refused(
        order,
        errors.OrderAlreadyServed,
        lambda: order.serve(
            served_at=T0,
            method=ServiceMethod.IN_PERSON,
            notes="",
            by=INSPECTOR,
            at=T0,
            policy=POLICY,
        ),
    )


def test_an_escalation_is_acknowledged_once() -> None:
    order = issued()
    escalation_id = order.escalate(
        target=EscalationTarget.SUPERVISOR,
        reason="inaction",
        by=SOCIAL_WORKER,
        at=T0,
        policy=POLICY,
    )
    order.acknowledge_escalation(escalation_id, by=SUPERVISOR, at=T0 + HOUR)
    refused(
        order,
        errors.EscalationAlreadyAcknowledged,
        lambda: order.acknowledge_escalation(escalation_id, by=SUPERVISOR, at=T0 + HOUR),
    )
    refused(
        order,
        errors.EscalationNotFound,
        lambda: order.acknowledge_escalation(uuid4(), by=SUPERVISOR, at=T0 + HOUR),
    )


def test_a_missed_check_in_is_refused_before_the_deadline_has_passed() -> None:
    order = issued()
    due = check_in_due(order)
    assert due is not None
    refused(
        order,
        errors.CheckInNotOverdue,
        lambda: order.record_missed_check_in(
            by=SYSTEM_ACTOR, at=due + POLICY.check_in_grace, policy=POLICY
        ),
    )


def test_a_late_report_does_not_satisfy_the_window_whose_deadline_passed() -> None:
    order = issued(
        answers={"threats_to_kill": True, "strangulation": True, "children_harmed": True}
    )  # extreme: every 72 h, order lasts 72 h
    order.extend(valid_until=T0 + 9 * DAY, reason="x", by=INSPECTOR, at=T0 + HOUR, policy=POLICY)
    late = T0 + 3 * DAY + POLICY.check_in_grace + HOUR
    order.record_visit(a_visit(T0 + 2 * DAY), by=INSPECTOR, at=late, policy=POLICY)  # backdated
    visit = order.pending_events[-1]
    assert isinstance(visit, ProtectionOrder.InspectionVisitRecorded)
    assert (visit.window, visit.claimed_window, visit.late) == (None, 1, True)
    assert check_in_due(order) == T0 + 3 * DAY  # window 1 is still unmet
    order.record_missed_check_in(by=SYSTEM_ACTOR, at=late, policy=POLICY)
    assert check_in_due(order) == T0 + 6 * DAY  # nor does the late report meet window 2
    assert order.late_reports == 1


def test_revoking_ends_the_order_and_its_check_ins() -> None:
    order = issued()
    order.revoke(reason="court set it aside", by=SUPERVISOR, at=T0 + HOUR)
    assert order.status is Status.REVOKED
    assert check_in_due(order) == T0 + HOUR
    refused(
        order,
        errors.OrderNotInForce,
        lambda: order.revoke(reason="again", by=SUPERVISOR, at=T0 + 2 * HOUR),
    )


def test_a_reassessment_to_a_higher_level_tightens_the_check_ins() -> None:
    order = issued(answers=LOW_RISK_ANSWERS, kind=OrderKind.COURT)
    assert POLICY.check_in_every[RiskLevel.LOW] is None
    assert order.check_ins is not None and order.check_ins.windows() == []  # none required
    order.assess_risk(
        HIGH_RISK_ANSWERS,
        final_level=RiskLevel.EXTREME,
        reason="breach",
        by=INSPECTOR,
        at=T0 + DAY,
        policy=POLICY,
    )
    assert check_in_due(order) == T0 + DAY + POLICY.check_in_every[RiskLevel.EXTREME]


def test_events_that_move_the_pending_check_in_carry_its_due_time_and_deadline() -> None:
    order = issued()  # high risk, temporary: one window, due when the order ends
    end = T0 + POLICY.kinds[OrderKind.TEMPORARY].duration
    order.record_visit(a_visit(T0 + HOUR), by=INSPECTOR, at=T0 + HOUR, policy=POLICY)
    assessed, issue, visit = order.pending_events[-3:]
    assert isinstance(assessed, ProtectionOrder.RiskAssessed)
    assert isinstance(issue, ProtectionOrder.Issued)
    assert isinstance(visit, ProtectionOrder.InspectionVisitRecorded)
    assert (assessed.check_in_due, assessed.check_in_deadline) == (None, None)  # not issued yet
    assert (issue.check_in_due, issue.check_in_deadline) == (end, end + POLICY.check_in_grace)
    assert (visit.check_in_due, visit.check_in_deadline) == (None, None)  # no window is left


@pytest.mark.parametrize("version", [0, -1, 4, 99])
def test_a_finding_about_an_event_the_order_has_not_is_refused(version: int) -> None:
    order = issued()
    assert order.version == 3
    before = len(order.collect_events())
    with pytest.raises(errors.NoSuchEvent) as refused:
        order.flag_report(
            rule="no_proof",
            strength=Strength.WEAK,
            evidence="z",
            flagged_version=version,
            by=SYSTEM_ACTOR,
            at=T0 + HOUR,
        )
    assert refused.value.field == "flagged_version"
    assert not order.collect_events() and before == 3
    assert order.flag_report(
        rule="no_proof",
        strength=Strength.WEAK,
        evidence="z",
        flagged_version=3,
        by=SYSTEM_ACTOR,
        at=T0 + HOUR,
    )
