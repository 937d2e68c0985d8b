"""The sweep: every missed window alerted once, with its true due time, whatever happens."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from uuid import UUID

import pytest

from orders.clock import SimulatedClock
from orders.domain import ProtectionOrder
from orders.values import OrderKind, Status
from scheduler import sweep as sweeping
from scheduler.jobs import start_scheduler
from scheduler.sweep import sweep
from service.bootstrap import Service
from service.checkpoints import latest_checkpoint, make_checkpoint
from service.work import checkpoint_due, checkpoint_now
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order

WEEK = timedelta(days=7)
GRACE = timedelta(hours=2)


def alerts(service: Service, order_id: UUID) -> list[ProtectionOrder.CheckInMissed]:
    events = service.orders.repository.event_store.get(order_id)
    return [e for e in events if isinstance(e, ProtectionOrder.CheckInMissed)]


def run_sweep(service: Service) -> int:
    service.views.catch_up()  # the follower's part, which `serve` runs in its own thread
    return sweep(service.orders, service.views, service.deadlines).missed_check_ins


def test_a_missed_check_in_is_alerted_once_even_if_the_scheduler_was_down(
    service: Service,
    clock: SimulatedClock,
) -> None:
    start = clock()
    order_id = issued_order(service.orders, kind=OrderKind.COURT)  # high risk: weekly
    clock.advance(3 * WEEK + GRACE + timedelta(minutes=1))  # down for three deadlines
    assert run_sweep(service) == 3
    assert run_sweep(service) == 0
    missed = alerts(service, order_id)
    assert [a.due_at for a in missed] == [start + WEEK, start + 2 * WEEK, start + 3 * WEEK]
    assert all(a.timestamp == clock() for a in missed)  # detected now, due then


def test_a_report_recorded_before_the_deadline_prevents_the_alert(
    service: Service,
    clock: SimulatedClock,
) -> None:
    order_id = issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(WEEK + GRACE)  # the last moment of the first window
    service.orders.handle(a_visit_command(clock() - timedelta(days=1)), order_id, by=INSPECTOR)
    clock.advance(timedelta(minutes=1))
    assert run_sweep(service) == 0
    assert alerts(service, order_id) == []


def test_a_backdated_report_recorded_after_the_deadline_does_not_prevent_the_alert(
    service: Service,
    clock: SimulatedClock,
) -> None:
    start = clock()
    order_id = issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(WEEK + GRACE + timedelta(minutes=1))
    service.orders.handle(a_visit_command(start + timedelta(days=3)), order_id, by=INSPECTOR)
    assert run_sweep(service) == 1
    assert [a.due_at for a in alerts(service, order_id)] == [start + WEEK]


def test_sweepers_at_once_never_raise_the_same_alert_twice(
    make_service: ServiceFactory,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sweeping, "PAGE", 20)  # pages of 20 orders, saved 5 at a time:
    monkeypatch.setattr(sweeping, "PER_SAVE", 5)  # the sweepers' saves meet, and decide again
    writer = make_service()
    order_ids = [issued_order(writer.orders, kind=OrderKind.COURT) for _ in range(50)]
    clock.advance(2 * WEEK + GRACE + timedelta(minutes=1))
    sweepers = [make_service() for _ in range(3)]  # as if three scheduler processes
    results: list[int] = []
    barrier = threading.Barrier(len(sweepers))

    def go(service: Service) -> None:
        barrier.wait()
        results.append(run_sweep(service))

    threads = [threading.Thread(target=go, args=(s,)) for s in sweepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 100
    for order_id in order_ids:
        assert [a.window for a in alerts(writer, order_id)] == [1, 2]


def test_orders_past_their_validity_are_marked_expired_after_their_last_alerts(
    service: Service,
    clock: SimulatedClock,
) -> None:
    order_id = issued_order(service.orders)  # temporary: three days, one window at the end
    clock.advance(timedelta(days=3, hours=3))
    service.views.catch_up()
    result = sweep(service.orders, service.views, service.deadlines)
    assert (result.missed_check_ins, result.expired) == (1, 1)
    assert service.orders.get(order_id).status is Status.EXPIRED
    service.views.catch_up()
    assert sweep(service.orders, service.views, service.deadlines).expired == 0


def test_the_apscheduler_job_sweeps_on_its_interval(
    service: Service,
    clock: SimulatedClock,
) -> None:
    order_id = issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(WEEK + GRACE + timedelta(minutes=1))
    service.views.start(interval=0.05)  # the follower, beside the scheduler as in serve
    scheduler = start_scheduler(service.orders, service.views, service.deadlines, every_seconds=0.2)
    try:
        deadline = time.monotonic() + 10
        while not alerts(service, order_id) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
        service.views.stop()
    assert len(alerts(service, order_id)) == 1


def test_the_scheduler_signs_checkpoints_on_its_interval(service: Service) -> None:
    issued_order(service.orders, kind=OrderKind.COURT)
    service.views.start(interval=0.05)  # the follower, beside the scheduler as in serve
    scheduler = start_scheduler(
        service.orders,
        service.views,
        service.deadlines,
        every_seconds=60,
        jobs=[
            ("checkpoint", lambda: make_checkpoint(service.orders, now=service.orders.now()), 0.2)
        ],
    )
    try:
        deadline = time.monotonic() + 10
        while latest_checkpoint(service.orders) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
        service.views.stop()
    checkpoint = latest_checkpoint(service.orders)
    assert checkpoint is not None
    assert checkpoint.size == 3


def test_a_checkpoint_falls_due_after_n_events_or_t_seconds_whichever_first(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    service = make_service(checkpoint_events=6, checkpoint_seconds=60)
    assert not checkpoint_due(service)  # an empty log
    issued_order(service.orders)  # 3 events: the first checkpoint is due at once
    assert checkpoint_due(service)
    assert checkpoint_now(service) is not None
    assert not checkpoint_due(service)
    order_id = issued_order(service.orders)  # 3 new events: fewer than 6, within 60 s
    assert not checkpoint_due(service)
    clock.advance(timedelta(seconds=61))
    assert checkpoint_due(service)  # the time has passed, and something is new
    made = checkpoint_now(service)
    assert made is not None and made.size == 6
    for _ in range(6):
        service.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    assert checkpoint_due(service)  # six new events: due at once
