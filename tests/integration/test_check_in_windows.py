"""Every missed window is alerted: a report meets only the window it claims, and only if it
was recorded by that window's deadline; the sweep runs on an injected clock, on both engines."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from pathlib import Path
from uuid import UUID

from orders.clock import SimulatedClock
from orders.domain import ProtectionOrder
from orders.values import OrderKind, Status
from projections.order_state import OrderFilter
from scheduler.sweep import SweepResult, sweep
from service.bootstrap import Service
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, LOW_RISK_ANSWERS, a_visit_command
from tests.integration.helpers import issued_order

WEEK, DAY, HOUR, MINUTE = (
    timedelta(days=7),
    timedelta(days=1),
    timedelta(hours=1),
    timedelta(minutes=1),
)
GRACE = 2 * HOUR


def run_sweep(service: Service) -> SweepResult:
    service.views.catch_up()  # the follower's part, which `serve` runs in its own thread
    return sweep(service.orders, service.views, service.deadlines)


def alerted(service: Service, order_id: UUID) -> list[int]:
    events = service.orders.repository.event_store.get(order_id)
    return [e.window for e in events if isinstance(e, ProtectionOrder.CheckInMissed)]


def reports(service: Service, order_id: UUID) -> list[ProtectionOrder.InspectionVisitRecorded]:
    events = service.orders.repository.event_store.get(order_id)
    return [e for e in events if isinstance(e, ProtectionOrder.InspectionVisitRecorded)]


def overdue(service: Service) -> set[UUID]:
    service.views.catch_up()
    found = service.states.page(OrderFilter(overdue=True), now=service.orders.now())[0]
    return {UUID(row["order_id"]) for row in found}


def test_an_inspector_who_backfills_every_alert_gets_every_window_alerted(
    service: Service, clock: SimulatedClock
) -> None:
    start = clock()
    order_id = issued_order(service.orders, kind=OrderKind.COURT)  # high risk: weekly
    for window in range(1, 7):
        clock.set(start + window * WEEK + GRACE + MINUTE)  # just past the window's deadline
        assert run_sweep(service).missed_check_ins == 1
        assert alerted(service, order_id) == list(range(1, window + 1))
        clock.advance(HOUR)  # the cover-up: a visit "made" in the window just alerted
        claimed = start + (window - 1) * WEEK + 3 * DAY
        service.orders.handle(a_visit_command(claimed), order_id, by=INSPECTOR)
        assert order_id in overdue(service)  # the backfill takes it off no list
    backfills = reports(service, order_id)
    assert [(r.window, r.claimed_window, r.late) for r in backfills] == [
        (None, n, True) for n in range(1, 7)
    ]
    assert service.orders.get(order_id).late_reports == 6
    row = service.states.get(order_id)
    assert row is not None
    assert (row["missed_check_ins"], row["late_reports"]) == (6, 6)
    summaries = [
        e["summary"]
        for e in service.timelines.of(order_id)
        if e["event_type"] == "InspectionVisitRecorded"
    ]
    assert all("late" in s and "meets no window" in s for s in summaries)


def test_a_report_meeting_a_later_window_takes_the_order_off_the_overdue_list(
    service: Service, clock: SimulatedClock
) -> None:
    start = clock()
    order_id = issued_order(service.orders, kind=OrderKind.COURT)
    clock.set(start + WEEK + GRACE + MINUTE)
    assert run_sweep(service).missed_check_ins == 1
    assert order_id in overdue(service)
    visit = service.orders.handle(a_visit_command(clock() - MINUTE), order_id, by=INSPECTOR)
    assert visit.order.check_ins is not None and visit.order.check_ins.pending == 3
    assert order_id not in overdue(service)  # window 2 was met on time: no longer overdue
    clock.set(start + 3 * WEEK + GRACE + MINUTE)
    assert run_sweep(service).missed_check_ins == 1  # window 3 passes unmet
    assert alerted(service, order_id) == [1, 3]
    assert order_id in overdue(service)


def test_an_order_at_a_level_without_check_ins_never_misses_one(
    service: Service, clock: SimulatedClock
) -> None:
    order_id = issued_order(service.orders, answers=LOW_RISK_ANSWERS, kind=OrderKind.COURT)
    for _ in range(27):  # the whole half year, swept weekly, and past its end
        clock.advance(WEEK)
        assert run_sweep(service).missed_check_ins == 0
        assert order_id not in overdue(service)
    assert alerted(service, order_id) == []
    assert service.orders.get(order_id).status is Status.EXPIRED


def test_when_the_end_is_no_check_in_nothing_is_alerted_at_the_end(
    make_service: ServiceFactory, clock: SimulatedClock, tmp_path: Path
) -> None:
    default = resources.files("orders").joinpath("default_policy.toml").read_text()
    assert "check_in_at_end = true" in default
    policy = tmp_path / "policy.toml"
    policy.write_text(default.replace("check_in_at_end = true", "check_in_at_end = false"))
    service = make_service(policy_file=policy)
    start = clock()
    short = issued_order(service.orders)  # temporary, high risk: three days, weekly check-ins
    court = issued_order(service.orders, kind=OrderKind.COURT)  # 180 days: 25 whole weeks
    clock.set(start + 181 * DAY)
    result = run_sweep(service)
    assert (result.missed_check_ins, result.expired) == (25, 2)
    assert alerted(service, short) == []
    assert alerted(service, court) == list(range(1, 26))
    assert run_sweep(service).missed_check_ins == 0
