"""Lowering a threat takes two people: a lower level is a proposal until a second supervisor
approves it; meanwhile the higher level and its cadence stay in force."""

from datetime import UTC, datetime, timedelta

import pytest

from orders import errors
from orders.alerting import AlertKind
from orders.domain import ProtectionOrder
from orders.policy import load_policy
from orders.values import Actor, OrderKind, RiskLevel, Role
from tests.factories import HIGH_RISK_ANSWERS, INSPECTOR, SUPERVISOR, a_request, terms

POLICY = load_policy().model_copy(update={"no_lowering_after_breach": timedelta(days=30)})
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
MEDIUM_ANSWERS = {"violence_increasing": True}  # score 3: medium
OTHER_SUPERVISOR = Actor("chief-aida", Role.SUPERVISOR)


def issued_high() -> ProtectionOrder:
    order = ProtectionOrder.open(a_request(T0), by=INSPECTOR, at=T0, policy=POLICY)
    order.assess_risk(
        HIGH_RISK_ANSWERS, final_level=None, reason="", by=INSPECTOR, at=T0, policy=POLICY
    )
    order.issue(terms(T0, kind=OrderKind.COURT), by=INSPECTOR, at=T0, policy=POLICY)
    return order


def propose_medium(order: ProtectionOrder, at: datetime, reason: str = "he moved away") -> None:
    order.assess_risk(
        MEDIUM_ANSWERS, final_level=None, reason=reason, by=SUPERVISOR, at=at, policy=POLICY
    )


def refused(order: ProtectionOrder, error: type[Exception], command: object) -> None:
    before = len(order.pending_events)
    with pytest.raises(error):
        command()  # type: ignore[operator]
    assert len(order.pending_events) == before


def test_a_reassessment_with_no_answers_does_not_lower_the_level_in_force() -> None:
    order = issued_high()
    refused(
        order,
        errors.InvalidInput,
        lambda: order.assess_risk(
            {}, final_level=None, reason="", by=SUPERVISOR, at=T0 + DAY, policy=POLICY
        ),
    )
    assert order.risk_level is RiskLevel.HIGH


def test_a_lower_level_stays_a_proposal_until_a_second_supervisor_approves_it() -> None:
    order = issued_high()
    weekly_due = order.scheduled.due
    propose_medium(order, T0 + DAY)
    assert order.risk_level is RiskLevel.HIGH
    assert order.lowering is not None and order.lowering.level is RiskLevel.MEDIUM
    assert order.scheduled.due == weekly_due  # the higher cadence stays in force
    proposal = order.lowering.proposal_id
    for same_person in (SUPERVISOR, INSPECTOR):
        refused(
            order,
            errors.LoweringNeedsAnotherPerson,
            lambda who=same_person: order.approve_lowering(
                proposal, by=who, at=T0 + 2 * DAY, policy=POLICY
            ),
        )
    order.approve_lowering(proposal, by=OTHER_SUPERVISOR, at=T0 + 2 * DAY, policy=POLICY)
    assert order.risk_level is RiskLevel.MEDIUM
    assert order.lowering is None
    assert order.scheduled.due == weekly_due  # the pending window keeps its due time
    later = order.scheduled.due_of(order.scheduled.pending + 1)
    assert later == weekly_due + POLICY.check_in_every.medium  # then the looser cadence
    next_due = order.duties.waiting_for(AlertKind.REASSESSMENT_OVERDUE)
    assert next_due is not None and next_due.due_at == T0 + 2 * DAY + POLICY.reassess_every.medium


def test_a_rejected_proposal_leaves_the_level_in_force() -> None:
    order = issued_high()
    propose_medium(order, T0 + DAY)
    assert order.lowering is not None
    proposal = order.lowering.proposal_id
    refused(
        order,
        errors.InvalidInput,
        lambda: order.reject_lowering(proposal, reason=" ", by=OTHER_SUPERVISOR, at=T0 + DAY),
    )
    order.reject_lowering(
        proposal, reason="she still fears him", by=OTHER_SUPERVISOR, at=T0 + 2 * DAY
    )
    assert order.risk_level is RiskLevel.HIGH and order.lowering is None
    refused(
        order,
        errors.NoLoweringPending,
        lambda: order.approve_lowering(
            proposal, by=OTHER_SUPERVISOR, at=T0 + 3 * DAY, policy=POLICY
        ),
    )


def test_no_lowering_for_the_policys_period_after_a_breach() -> None:
    order = issued_high()
    order.report_breach(
        occurred_at=T0 + DAY, description="x", by=INSPECTOR, at=T0 + DAY, policy=POLICY
    )
    refused(order, errors.LoweringForbiddenAfterBreach, lambda: propose_medium(order, T0 + 5 * DAY))
    propose_medium(order, T0 + 31 * DAY)
    assert order.lowering is not None


def test_a_proposal_is_a_reassessment_made() -> None:
    order = issued_high()
    order.report_breach(
        occurred_at=T0 + HOUR, description="x", by=INSPECTOR, at=T0 + HOUR, policy=POLICY
    )
    order.attend_to_duties(by=INSPECTOR, at=T0 + 3 * DAY, policy=POLICY)
    assert order.duties.alerts_about(AlertKind.REASSESSMENT_OVERDUE)
    propose_medium(order, T0 + 32 * DAY)
    assert order.duties.alerts_about(AlertKind.REASSESSMENT_OVERDUE) == []
