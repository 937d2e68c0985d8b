"""The ladder: every lapsed duty raises one alert, which climbs rung by rung until someone
at its rung or above acknowledges it; the same steps with the same deadlines however late or
however many sweepers run."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from orders import errors
from orders.alerting import Addressee, AlertKind
from orders.clock import SimulatedClock
from orders.commands import (
    AcknowledgeAlert,
    AssessRisk,
    AttendToDuties,
    RecordMissedCheckIns,
    ReportBreach,
    RespondToBreach,
)
from orders.domain import ProtectionOrder
from orders.values import SYSTEM_ACTOR, OrderKind
from scheduler.sweep import sweep
from service.bootstrap import Service
from tests.conftest import ServiceFactory
from tests.factories import HIGH_RISK_ANSWERS, INSPECTOR, SUPERVISOR
from tests.integration.helpers import issued_order

WEEK = timedelta(days=7)
GRACE = timedelta(hours=2)
MINUTE = timedelta(minutes=1)
# The default policy's ladder for a missed check-in: inspector 4 h, supervisor 8 h,
# prosecutor 1 day.
RUNGS = [timedelta(hours=4), timedelta(hours=8), timedelta(days=1)]

Step = tuple[str, str, int, str, datetime]


def run_sweep(service: Service) -> None:
    service.views.catch_up()  # the follower's part, which `serve` runs in its own thread
    sweep(service.orders, service.views, service.deadlines)


def steps(service: Service, order_id: UUID, kind: AlertKind | None = None) -> list[Step]:
    """The order's alert events: (type, kind, rung, addressee, deadline to acknowledge)."""
    found: list[Step] = []
    for e in service.orders.repository.event_store.get(order_id):
        if isinstance(e, ProtectionOrder.AlertRaised):
            found.append(("raised", e.kind, 0, e.addressee, e.acknowledge_by))
        elif isinstance(e, ProtectionOrder.AlertClimbed):
            found.append(("climbed", e.kind, e.rung, e.addressee, e.acknowledge_by))
    return [s for s in found if kind is None or s[1] == kind]


def alert_id(service: Service, order_id: UUID, kind: AlertKind) -> UUID:
    (alert,) = service.orders.repository.get(order_id).duties.alerts_about(kind)
    return alert.alert_id


def test_a_missed_check_in_tells_the_inspector_then_climbs_rung_by_rung(
    service: Service, clock: SimulatedClock
) -> None:
    start = clock()
    order_id = issued_order(service.orders, kind=OrderKind.COURT)  # high: weekly check-ins
    deadline = start + WEEK + GRACE
    clock.advance(WEEK + GRACE + MINUTE)
    run_sweep(service)
    first = deadline + RUNGS[0]
    assert steps(service, order_id, AlertKind.MISSED_CHECK_IN) == [
        ("raised", "missed_check_in", 0, Addressee.INSPECTOR, first)
    ]
    clock.advance(RUNGS[0])  # the inspector let it lapse
    run_sweep(service)
    assert steps(service, order_id, AlertKind.MISSED_CHECK_IN)[1:] == [
        ("climbed", "missed_check_in", 1, Addressee.SUPERVISOR, first + RUNGS[1])
    ]
    clock.advance(RUNGS[1] + RUNGS[2])  # and so did the supervisor: the top rung stays
    run_sweep(service)
    run_sweep(service)
    assert [s[2:4] for s in steps(service, order_id, AlertKind.MISSED_CHECK_IN)] == [
        (0, Addressee.INSPECTOR),
        (1, Addressee.SUPERVISOR),
        (2, Addressee.PROSECUTOR),
    ]


def test_a_sweep_after_hours_of_downtime_records_the_same_steps_and_deadlines(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    service = make_service()
    punctual = issued_order(service.orders, kind=OrderKind.COURT)
    late = issued_order(service.orders, kind=OrderKind.COURT)
    ends = WEEK + GRACE + sum(RUNGS, timedelta()) + timedelta(hours=1)
    for _ in range(int(ends / timedelta(hours=1))):
        clock.advance(timedelta(hours=1))
        service.views.catch_up()
        for order_id in (d.order_id for d in service.deadlines.check_ins_overdue(clock())):
            if order_id == punctual:
                service.orders.handle(RecordMissedCheckIns(), order_id, by=SYSTEM_ACTOR)
        for order_id in (d.order_id for d in service.deadlines.duties_due(clock())):
            if order_id == punctual:
                service.orders.handle(AttendToDuties(), order_id, by=SYSTEM_ACTOR)
    run_sweep(service)  # the first sweep the late order sees, hours after everything fell due
    assert steps(service, late, AlertKind.MISSED_CHECK_IN) == steps(
        service, punctual, AlertKind.MISSED_CHECK_IN
    )
    assert len(steps(service, late, AlertKind.MISSED_CHECK_IN)) == 3


def test_three_sweepers_at_once_record_each_step_exactly_once(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    writer = make_service()
    order_ids = [issued_order(writer.orders, kind=OrderKind.COURT) for _ in range(8)]
    clock.advance(WEEK + GRACE + RUNGS[0] + MINUTE)  # missed, and already due to climb
    sweepers = [make_service() for _ in range(3)]
    barrier = threading.Barrier(len(sweepers))

    def go(service: Service) -> None:
        barrier.wait()
        run_sweep(service)

    threads = [threading.Thread(target=go, args=(s,)) for s in sweepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for order_id in order_ids:
        assert [s[:3] for s in steps(writer, order_id, AlertKind.MISSED_CHECK_IN)] == [
            ("raised", "missed_check_in", 0),
            ("climbed", "missed_check_in", 1),
        ]


def test_an_acknowledgement_at_ones_rung_or_above_stops_the_climb(
    service: Service, clock: SimulatedClock
) -> None:
    order_id = issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(WEEK + GRACE + RUNGS[0] + MINUTE)
    run_sweep(service)  # raised and climbed to the supervisor
    missed = alert_id(service, order_id, AlertKind.MISSED_CHECK_IN)
    with pytest.raises(errors.AlertAboveYourRung):
        service.orders.handle(
            AcknowledgeAlert(alert_id=missed, note="on my way"), order_id, by=INSPECTOR
        )
    service.orders.handle(
        AcknowledgeAlert(alert_id=missed, note="calling the inspector"), order_id, by=SUPERVISOR
    )
    clock.advance(timedelta(days=3))
    run_sweep(service)
    assert len(steps(service, order_id, AlertKind.MISSED_CHECK_IN)) == 2  # no further climb
    with pytest.raises(errors.AlertNotFound):
        service.orders.handle(
            AcknowledgeAlert(alert_id=missed, note="again"), order_id, by=SUPERVISOR
        )


def test_a_breach_without_a_response_escalates_by_itself_until_answered(
    service: Service, clock: SimulatedClock
) -> None:
    order_id = issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(timedelta(hours=1))
    reported = clock()
    breach_id = service.orders.handle(
        ReportBreach(occurred_at=reported, description="he came to the door"),
        order_id,
        by=INSPECTOR,
    ).ref
    clock.advance(timedelta(hours=2) + MINUTE)  # the policy's two hours for a response
    run_sweep(service)
    assert steps(service, order_id, AlertKind.BREACH_UNANSWERED) == [
        (
            "raised",
            "breach_unanswered",
            0,
            Addressee.SUPERVISOR,
            reported + timedelta(hours=2) + timedelta(hours=8),
        )
    ]
    assert breach_id is not None
    service.orders.handle(
        RespondToBreach(breach_id=breach_id, response="warning", responded_at=clock()),
        order_id,
        by=SUPERVISOR,
    )
    assert (
        service.orders.repository.get(order_id).duties.alerts_about(AlertKind.BREACH_UNANSWERED)
        == []
    )
    clock.advance(timedelta(days=2))
    run_sweep(service)
    assert len(steps(service, order_id, AlertKind.BREACH_UNANSWERED)) == 1  # never climbed


def test_a_reassessment_not_made_on_the_cadence_or_after_a_breach_raises_its_alert(
    service: Service, clock: SimulatedClock
) -> None:
    order_id = issued_order(service.orders, kind=OrderKind.COURT)  # high: reassess weekly
    assessed = clock()
    clock.advance(timedelta(days=1))
    service.orders.handle(
        ReportBreach(occurred_at=clock(), description="threats by phone"),
        order_id,
        by=INSPECTOR,
    )
    breach_at = clock()
    clock.advance(timedelta(hours=48) + MINUTE)  # the policy's 48 h after a breach
    run_sweep(service)
    raised = steps(service, order_id, AlertKind.REASSESSMENT_OVERDUE)
    assert raised == [
        (
            "raised",
            "reassessment_overdue",
            0,
            Addressee.INSPECTOR,
            breach_at + timedelta(hours=48) + RUNGS[0],
        )
    ]
    service.orders.handle(AssessRisk(answers=HIGH_RISK_ANSWERS), order_id, by=INSPECTOR)
    order = service.orders.repository.get(order_id)
    assert order.duties.alerts_about(AlertKind.REASSESSMENT_OVERDUE) == []
    next_due = order.duties.waiting_for(AlertKind.REASSESSMENT_OVERDUE)
    assert next_due is not None and next_due.due_at == clock() + WEEK
    assert assessed + WEEK < next_due.due_at


def test_the_inspector_is_told_first_of_his_own_missed_check_in_but_cannot_silence_it(
    service: Service, clock: SimulatedClock
) -> None:
    order_id = issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(WEEK + GRACE + MINUTE)
    run_sweep(service)  # raised: it tells the inspector
    missed = alert_id(service, order_id, AlertKind.MISSED_CHECK_IN)
    with pytest.raises(errors.AlertAboutYourOwnLapse):
        service.orders.handle(
            AcknowledgeAlert(alert_id=missed, note="all fine"), order_id, by=INSPECTOR
        )
    clock.advance(RUNGS[0])
    run_sweep(service)
    assert steps(service, order_id, AlertKind.MISSED_CHECK_IN)[-1][3] == Addressee.SUPERVISOR
