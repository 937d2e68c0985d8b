"""Read models: right rows, each event applied exactly once, rebuildable, lag reported."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from orders.clock import SimulatedClock
from orders.commands import AcknowledgeEscalation, Escalate, ReportBreach, RespondToBreach
from orders.values import OrderKind, RiskLevel
from projections.follower import Follower
from projections.order_state import OrderFilter
from projections.timeline import TimelineView
from service.bootstrap import Service
from tests.conftest import ServiceFactory
from tests.factories import (
    INSPECTOR,
    LOW_RISK_ANSWERS,
    SOCIAL_WORKER,
    SUPERVISOR,
    a_visit_command,
    request_order,
)
from tests.integration.helpers import issued_order


def test_current_state_can_be_filtered_by_district_risk_inspector_status_and_overdue(
    service: Service,
    clock: SimulatedClock,
) -> None:
    high = issued_order(service.orders, district="Lenin")
    low = issued_order(
        service.orders, district="Oktyabr", answers=LOW_RISK_ANSWERS, kind=OrderKind.COURT
    )
    service.views.catch_up()
    now = clock()

    def ids(**where: Any) -> set[str]:
        return {r["order_id"] for r in service.states.page(OrderFilter(**where), now=clock())[0]}

    assert ids(district="Lenin") == {str(high)}
    assert ids(risk_level=RiskLevel.LOW) == {str(low)}
    assert ids(inspector_id=INSPECTOR.id, status="issued") == {str(high), str(low)}
    assert ids(overdue=True) == set()
    clock.set(now + timedelta(days=3, hours=3))  # the high order's first window has passed
    assert ids(overdue=True) == {str(high)}
    assert ids(overdue=False) == {str(low)}
    row = service.states.get(high)
    assert row is not None and row["check_in_due"] == now + timedelta(days=3)


def test_the_timeline_shows_actor_claimed_and_recorded_time_and_log_position(
    service: Service,
    clock: SimulatedClock,
) -> None:
    order_id = issued_order(service.orders)
    clock.advance(timedelta(hours=2))
    claimed = clock() - timedelta(hours=1)
    service.orders.handle(a_visit_command(claimed), order_id, by=INSPECTOR)
    service.views.catch_up()
    timeline = service.timelines.of(order_id)
    assert [e["event_type"] for e in timeline] == [
        "Requested",
        "RiskAssessed",
        "Issued",
        "InspectionVisitRecorded",
    ]
    visit = timeline[-1]
    assert (visit["actor_id"], visit["actor_role"]) == (INSPECTOR.id, "inspector")
    assert visit["claimed_at"] == claimed and visit["recorded_at"] == clock()
    assert [e["position"] for e in timeline] == sorted(e["position"] for e in timeline)
    assert "kitchen" not in str(timeline)  # the narrative never reaches a timeline


class Crashes(Exception):
    pass


class CrashingTimeline(TimelineView):
    """The real timeline view, crashing on the n-th event it is given."""

    def __init__(self, at: int) -> None:
        self.calls, self.at = 0, at

    def apply(self, event: Any, position: int, tx: Any) -> None:
        self.calls += 1
        super().apply(event, position, tx)
        if self.calls == self.at:
            raise Crashes


def test_a_crash_mid_batch_loses_nothing_and_applies_nothing_twice(service: Service) -> None:
    for _ in range(3):
        issued_order(service.orders)
    service.views.catch_up()
    service.views.db.query("SELECT 1")
    with service.views.db.transaction() as tx:  # forget the timeline, as if never built
        tx.execute("DELETE FROM timeline")
        tx.execute("UPDATE projection_tracking SET tx = 0, position = 0 WHERE view = 'timeline'")
    crashing = Follower(service.orders, [CrashingTimeline(at=5)])
    with pytest.raises(Crashes):
        crashing.catch_up()
    assert crashing.position(crashing.projections[0]) == 0  # the batch rolled back whole
    assert service.views.db.query("SELECT COUNT(*) AS n FROM timeline")[0]["n"] == 0
    Follower(service.orders, [TimelineView()]).catch_up()  # restart
    rows = service.views.db.query("SELECT position FROM timeline ORDER BY position")
    assert [r["position"] for r in rows] == list(range(1, service.views.head() + 1))


def test_two_runners_at_once_apply_every_event_exactly_once(
    make_service: ServiceFactory,
) -> None:
    writer = make_service()
    for _ in range(20):
        issued_order(writer.orders)
    runners = [make_service().views for _ in range(2)]
    for runner in runners:
        runner.batch_size = 7
    threads = [threading.Thread(target=runner.catch_up) for runner in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = writer.views.db.query("SELECT position FROM timeline ORDER BY position")
    assert [r["position"] for r in rows] == list(range(1, writer.views.head() + 1))
    counts = writer.views.db.query("SELECT COUNT(*) AS n FROM order_state")
    assert counts[0]["n"] == 20


def test_rebuild_from_zero_gives_the_same_rows_and_lag_is_reported(
    service: Service,
    clock: SimulatedClock,
) -> None:
    for _ in range(3):
        issued_order(service.orders)
    lag = {lag.view: lag.behind for lag in service.views.lag()}
    assert lag == {
        "order_state": 9,
        "timeline": 9,
        "deadlines": 9,
        "disclosures": 9,
        "activity": 9,
        "alerts": 9,
        "findings": 9,
        "notifications": 9,
    }
    service.views.catch_up()
    before = [
        service.views.db.query(f"SELECT * FROM {t} ORDER BY 1")
        for t in ("order_state", "timeline", "deadlines", "alerts", "findings_orders")
    ]
    progress: list[tuple[str, int, int]] = []
    service.views.rebuild(lambda *p: progress.append(p))
    after = [
        service.views.db.query(f"SELECT * FROM {t} ORDER BY 1")
        for t in ("order_state", "timeline", "deadlines", "alerts", "findings_orders")
    ]
    assert after == before
    assert ("timeline", 9, 9) in progress
    assert all(lag.behind == 0 for lag in service.views.lag())


def test_a_view_only_needs_its_own_tables_and_handlers(service: Service) -> None:
    for _ in range(2):
        issued_order(service.orders)
    others = [v for v in service.views.projections if v.name != "timeline"]
    with service.views.db.transaction() as tx:  # every other view's tables gone
        for view in others:
            for table in view.table_names():
                tx.execute(f"DROP TABLE {table}")
    alone = Follower(service.orders, [TimelineView()])
    assert alone.rebuild() == service.views.head()  # it read nothing but the log and its own
    rows = service.views.db.query("SELECT COUNT(*) AS n FROM timeline")
    assert rows[0]["n"] == service.views.head()
    assert TimelineView().table_names() == ["timeline"]


def test_commands_and_the_projection_worker_share_one_process_without_blocking(
    service: Service,
) -> None:
    service.views.start(interval=0.01)  # the worker thread, as `serve` runs it
    try:
        started = time.monotonic()
        order_ids = [issued_order(service.orders) for _ in range(10)]
        assert time.monotonic() - started < 5  # a lock-order deadlock would time out at 5 s
    finally:
        service.views.stop()
    service.views.catch_up()
    rows = service.states.page(OrderFilter(limit=100), now=service.orders.now())[0]
    assert {r["order_id"] for r in rows} == {str(i) for i in order_ids}


def test_a_value_postgresql_cannot_store_never_stalls_the_read_models(service: Service) -> None:
    request = request_order(service.orders.now())
    nul = request.model_copy(update={"district": "Len\x00in"})  # past the command's own check
    service.orders.handle(nul, by=SOCIAL_WORKER)  # inputs refuse NUL; the core survives it
    issued_order(service.orders)
    service.views.catch_up()
    assert all(lag.behind == 0 for lag in service.views.lag())


def test_a_breach_stays_open_until_its_first_response_and_an_escalation_until_acknowledged(
    service: Service,
) -> None:
    order_id = issued_order(service.orders, kind=OrderKind.COURT)
    now = service.orders.now

    def breach() -> UUID:
        report = ReportBreach(occurred_at=now(), description="he came to the door")
        breach_id = service.orders.handle(report, order_id, by=INSPECTOR).ref
        assert isinstance(breach_id, UUID)
        return breach_id

    def respond(breach_id: UUID) -> None:
        answer = RespondToBreach(breach_id=breach_id, response="warning", responded_at=now())
        service.orders.handle(answer, order_id, by=SUPERVISOR)

    def counts() -> tuple[int, int]:
        service.views.catch_up()
        row = service.states.get(order_id)
        assert row is not None
        return row["open_breaches"], row["open_escalations"]

    first, second = breach(), breach()
    respond(first)
    respond(first)  # a second response to one breach closes nothing more
    escalation = Escalate(target="supervisor", reason="no answer to the second breach")
    escalation_id = service.orders.handle(escalation, order_id, by=SUPERVISOR).ref
    assert counts() == (1, 1)
    service.orders.handle(
        AcknowledgeEscalation(escalation_id=escalation_id), order_id, by=SUPERVISOR
    )
    respond(second)
    assert counts() == (0, 0)
    service.views.rebuild()
    assert counts() == (0, 0)
