"""The application on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import psycopg
import pytest

from orders import errors
from orders.clock import CarriedClock, SimulatedClock, system_clock
from orders.domain import ProtectionOrder
from orders.values import RiskLevel, Status
from service.bootstrap import Service, bootstrap
from service.settings import Settings
from tests.conftest import ServiceFactory
from tests.factories import (
    INSPECTOR,
    SOCIAL_WORKER,
    a_visit,
    a_visit_command,
    issue_order,
    request_order,
)
from tests.integration.helpers import issued_order


def test_an_order_read_back_from_the_store_has_the_state_and_typed_values_it_was_saved_with(
    service: Service,
    clock: SimulatedClock,
) -> None:
    order_id = issued_order(service.orders)
    clock.advance(timedelta(hours=3))
    service.orders.handle(a_visit_command(clock() - timedelta(hours=1)), order_id, by=INSPECTOR)
    order = service.orders.get(order_id)
    assert order.status is Status.ISSUED and order.risk_level is RiskLevel.HIGH
    assert order.request.protected_persons[1].name == "Emir"
    events = service.orders.repository.event_store.get(order_id)
    visit = list(events)[-1]
    assert isinstance(visit, ProtectionOrder.InspectionVisitRecorded)
    assert visit.timestamp == clock()  # recorded time: the service's clock
    assert visit.visit.visited_at == clock() - timedelta(hours=1)  # claimed time, kept apart
    assert isinstance(visit.visit.met_with, tuple)


def test_a_refused_command_stores_nothing(service: Service) -> None:
    order_id = issued_order(service.orders)
    head = service.views.head()
    with pytest.raises(errors.OrderAlreadyIssued):
        service.orders.handle(issue_order(service.orders.now()), order_id, by=INSPECTOR)
    assert service.views.head() == head


def test_an_unknown_order_is_not_found(service: Service) -> None:
    with pytest.raises(errors.OrderNotFound):
        service.orders.get(uuid4())


def test_a_concurrent_write_is_refused_and_the_first_one_stands(
    make_service: ServiceFactory,
    clock: SimulatedClock,
) -> None:
    first, second = make_service(), make_service()  # two processes on one database
    order_id = issued_order(first.orders)
    mine, theirs = first.orders.get(order_id), second.orders.get(order_id)
    mine.record_visit(a_visit(clock()), by=INSPECTOR, at=clock(), policy=first.orders.policy)
    theirs.revoke(reason="withdrawn", by=INSPECTOR, at=clock())
    first.orders.save(mine)
    with pytest.raises(errors.ConcurrentChange):
        second.orders._save(theirs)
    assert second.orders.get(order_id).status is Status.ISSUED


def test_recorded_times_come_from_postgresqls_clock_or_else_the_services(
    database_url: str,
) -> None:
    service = bootstrap(Settings(database_url=database_url))  # no injected clock
    try:
        if database_url.startswith("sqlite"):
            assert service.orders.clock is system_clock  # SQLite has no server clock
            return
        with psycopg.connect(database_url) as conn:
            before = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
            order = service.orders.handle(request_order(before), by=SOCIAL_WORKER).order
            after = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
        assert before <= order.created_on <= after
        assert order.created_on.tzinfo is not None
        assert isinstance(service.orders.clock, CarriedClock)
        assert service.orders.clock.source.__qualname__.startswith("database_clock")
    finally:
        service.close()
