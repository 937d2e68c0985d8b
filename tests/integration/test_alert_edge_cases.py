"""Edge cases of the ladder: an escalation with the prosecutor, breaches around the order's end,
an escalation before issue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders import errors
from orders.alerting import Addressee, AlertKind
from orders.clock import SimulatedClock
from orders.commands import Escalate
from orders.domain import ProtectionOrder
from orders.policy import load_policy
from orders.values import SYSTEM_ACTOR, EscalationTarget, OrderKind
from scheduler.sweep import sweep
from service.bootstrap import Service
from tests.factories import (
    HIGH_RISK_ANSWERS,
    INSPECTOR,
    SOCIAL_WORKER,
    SUPERVISOR,
    a_request,
    an_assessment,
    request_order,
    terms,
)

POLICY = load_policy()
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def issued(kind: OrderKind = OrderKind.TEMPORARY) -> ProtectionOrder:
    order = ProtectionOrder.open(a_request(T0), by=INSPECTOR, at=T0, policy=POLICY)
    order.assess_risk(
        HIGH_RISK_ANSWERS, final_level=None, reason="", by=INSPECTOR, at=T0, policy=POLICY
    )
    order.issue(terms(T0, kind=kind), by=INSPECTOR, at=T0, policy=POLICY)
    return order


def test_a_supervisor_cannot_silence_an_escalation_that_is_with_the_prosecutor() -> None:
    """acknowledge_alert enforces the rung; the older AcknowledgeEscalation (SUP, PROS) does
    not, and it resolves the escalation's alert: a supervisor closes a court escalation."""
    order = issued()
    esc = order.escalate(
        target=EscalationTarget.COURT,
        reason="he has a gun",
        by=INSPECTOR,
        at=T0 + HOUR,
        policy=POLICY,
    )
    (alert,) = order.duties.alerts_about(AlertKind.ESCALATION)
    assert alert.addressee is Addressee.PROSECUTOR
    with pytest.raises(errors.AlertAboveYourRung):
        order.acknowledge_alert(alert.alert_id, note="seen", by=SUPERVISOR, at=T0 + 2 * HOUR)
    with pytest.raises(errors.AlertAboveYourRung):  # FAILS: the old route closes it
        order.acknowledge_escalation(esc, by=SUPERVISOR, at=T0 + 2 * HOUR)
    assert order.duties.alerts_about(AlertKind.ESCALATION)


def test_a_breach_left_unanswered_is_alerted_even_if_the_order_ends_before_its_deadline() -> None:
    """Revoked/Expired apply Duties.ended(), which drops the awaited breach response (and the
    post-breach reassessment): the breach is never alerted."""
    order = issued()
    valid_until = order.issued_terms.valid_until
    assert valid_until is not None
    at = valid_until - HOUR  # a breach an hour before the order runs out
    order.report_breach(
        occurred_at=at, description="he came to the door", by=INSPECTOR, at=at, policy=POLICY
    )
    order.expire(by=SYSTEM_ACTOR, at=valid_until)
    later = at + POLICY.breach_response_within + HOUR
    order.attend_to_duties(by=SYSTEM_ACTOR, at=later, policy=POLICY)
    assert order.duties.alerts_about(AlertKind.BREACH_UNANSWERED)  # FAILS: no alert, ever


def test_an_escalation_of_an_order_not_yet_issued_climbs(
    service: Service, clock: SimulatedClock
) -> None:
    """The deadlines view only INSERTs a row on Issued; SetsDeadlines events UPDATE it. An
    escalation on a requested order (allowed: SW/INSP/SUP) sets duty_due on no row, so the
    sweep never sees it and it never climbs to the prosecutor."""
    orders = service.orders
    order_id = orders.handle(request_order(orders.now()), by=SOCIAL_WORKER).order.id
    orders.handle(an_assessment(HIGH_RISK_ANSWERS), order_id, by=INSPECTOR)
    orders.handle(
        Escalate(target=EscalationTarget.SUPERVISOR, reason="nobody issues it"),
        order_id,
        by=SOCIAL_WORKER,
    )
    (alert,) = orders.get(order_id).duties.alerts_about(AlertKind.ESCALATION)
    assert alert.addressee is Addressee.SUPERVISOR
    clock.advance(alert.acknowledge_by - clock() + HOUR)
    service.views.catch_up()
    sweep(orders, service.views, service.deadlines)
    (alert,) = orders.get(order_id).duties.alerts_about(AlertKind.ESCALATION)
    assert alert.addressee is Addressee.PROSECUTOR  # FAILS: still with the supervisor


def test_a_breach_reported_after_the_order_ended_can_still_be_answered() -> None:
    """report_breach accepts a breach that occurred in force but is reported after the end and
    awaits a police response (its alert climbs to the prosecutor), but respond_to_breach
    refuses any order not ISSUED: the alert can never be resolved by the answer it waits for."""
    order = issued()
    valid_until = order.issued_terms.valid_until
    assert valid_until is not None
    order.expire(by=SYSTEM_ACTOR, at=valid_until)
    at = valid_until + HOUR
    breach = order.report_breach(
        occurred_at=valid_until - HOUR, description="x", by=INSPECTOR, at=at, policy=POLICY
    )
    assert order.duties.waiting_for(AlertKind.BREACH_UNANSWERED) is not None
    from orders.values import BreachResponseKind

    order.respond_to_breach(
        breach,
        response=next(iter(BreachResponseKind)),
        responded_at=at,
        notes="",
        by=INSPECTOR,
        at=at + HOUR,
        policy=POLICY,
    )  # FAILS: 409
