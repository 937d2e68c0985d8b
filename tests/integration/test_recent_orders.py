"""Orders kept in memory (decision 024, orders.recent): an order another process changed is
read with the change; what a command decides reaches nothing kept until it is saved; a store
that no longer holds an order as this process last saw it is noticed, and the order read
afresh; a process that keeps none still works."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Repository

from orders.clock import SimulatedClock
from orders.commands import Context, ReportBreach
from orders.domain import ProtectionOrder
from orders.values import Status
from service.bootstrap import Service
from tests import tampering
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order
from tests.integration.test_snapshots import a_busy_order


def replayed(service: Service, order_id: UUID) -> ProtectionOrder:
    """The order from its events alone, as the library loads it without snapshots or memory."""
    order: ProtectionOrder = Repository(service.orders.events).get(order_id)
    return order


def state(order: ProtectionOrder) -> dict[str, Any]:
    return {k: v for k, v in vars(order).items() if k != "_pending_events"}


def a_breach(clock: SimulatedClock) -> ReportBreach:
    return ReportBreach(occurred_at=clock() - timedelta(hours=1), description="At the door.")


def test_an_order_another_process_changed_is_read_with_the_change(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    one, other = make_service(), make_service()
    order_id = issued_order(one.orders)
    kept = one.orders.get(order_id)  # now kept by the first
    clock.advance(timedelta(hours=1))
    other.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    seen = one.orders.get(order_id)
    assert seen.version == kept.version + 1
    assert state(seen) == state(replayed(one, order_id))
    # and the first decides on it without meeting the other's write
    outcome = one.orders.handle(a_breach(clock), order_id, by=INSPECTOR)
    assert outcome.order.version == kept.version + 2


def test_what_a_command_decides_reaches_nothing_kept_until_saved(
    service: Service, clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    orders = service.orders
    order_id = issued_order(orders)
    clock.advance(timedelta(hours=2))
    before = state(orders.get(order_id))
    deciding = orders.get(order_id)
    context = Context(by=INSPECTOR, at=clock(), policy=orders.policy, vault=orders.vault)
    a_breach(clock).decide(deciding, context)  # decided, never saved
    assert deciding.version == before["_version"] + 1
    with caplog.at_level(logging.WARNING, logger="orders.loading"):
        again = orders.get(order_id)
    assert state(again) == before and not again.breaches
    assert state(again) == state(replayed(service, order_id))
    assert not caplog.records  # the kept order was as it was: no need to read it afresh


@pytest.mark.parametrize("refilled", [False, True], ids=["removed", "replaced"])
def test_a_store_that_no_longer_holds_what_was_kept_is_noticed_and_read_afresh(
    make_service: ServiceFactory,
    clock: SimulatedClock,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    refilled: bool,
) -> None:
    one = make_service()
    order_id = issued_order(one.orders)
    clock.advance(timedelta(hours=1))
    visited = one.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR).order
    # the store is put back behind the service's back: its last event is gone...
    tampering.delete_event(database_url, order_id, visited.version, with_seal=True)
    if refilled:  # ...and another process wrote another event in its place
        make_service().orders.handle(a_breach(clock), order_id, by=INSPECTOR)
    with caplog.at_level(logging.WARNING, logger="orders.loading"):
        seen = one.orders.get(order_id)
    assert state(seen) == state(replayed(one, order_id))
    assert seen.version == (visited.version if refilled else visited.version - 1)
    assert bool(seen.breaches) is refilled
    assert f"order {order_id} is not stored as this process last saw it" in caplog.text


def test_a_process_that_keeps_no_order_in_memory_reads_each_from_the_store(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    none_kept = make_service(orders_in_memory=0)
    order_id = issued_order(none_kept.orders)
    clock.advance(timedelta(hours=1))
    make_service().orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    seen = none_kept.orders.get(order_id)
    assert seen.status is Status.ISSUED
    assert state(seen) == state(replayed(none_kept, order_id))


def test_an_orders_state_holds_only_immutable_values(
    service: Service, clock: SimulatedClock
) -> None:
    """What the kept copies share must never change in place (orders.recent)."""
    order = service.orders.get(a_busy_order(service, clock))
    for name, value in state(order).items():
        hash(value)  # a list, dict or set anywhere inside raises TypeError
        assert not isinstance(value, list | dict | set), name


def test_a_command_decided_on_the_order_its_caller_loaded_meets_a_later_write_and_retries(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    """The API decides on the order it checked the caller's scope on (`loaded`); if another
    process wrote meanwhile, the save meets that write and the command is decided again on
    the fresh order: nothing lost, nothing decided twice."""
    one, other = make_service(), make_service()
    order_id = issued_order(one.orders)
    clock.advance(timedelta(hours=2))
    checked = one.orders.get(order_id)
    seen = checked.version
    other.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)  # meanwhile
    outcome = one.orders.handle(a_breach(clock), order_id, by=INSPECTOR, loaded=checked)
    assert outcome.order.version == seen + 2
    assert state(outcome.order) == state(replayed(one, order_id))
    assert len(outcome.order.breaches) == 1


def test_an_order_asked_at_a_version_is_as_it_stood_then_whatever_is_kept(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    one, other = make_service(), make_service()
    order_id = issued_order(one.orders)
    kept = one.orders.get(order_id).version
    for _ in range(3):  # written by another process: the first keeps the order as it was
        clock.advance(timedelta(hours=1))
        other.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    for version in (kept - 1, kept, kept + 2, kept + 3):  # below, at and past what is kept
        at = one.orders.repository.get(order_id, version=version)
        alone: ProtectionOrder = Repository(one.orders.events).get(order_id, version=version)
        assert (at.version, state(at)) == (version, state(alone))
    assert one.orders.get(order_id).version == kept + 3
