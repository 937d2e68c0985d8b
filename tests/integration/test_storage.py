"""The storage modules, chosen through the library's own PERSISTENCE_MODULE setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import InfrastructureFactory, InfrastructureFactoryError

from orders.application import Orders
from orders.records import CommandKey, Records
from service.bootstrap import Service
from service.integrity import verify_store
from service.settings import Settings
from storage.postgres import SealingPostgresFactory
from storage.sqlite import SealingSQLiteFactory
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, SOCIAL_WORKER, an_assessment, request_order


def test_the_database_url_names_our_module_and_the_library_builds_its_one_factory(
    database_url: str,
) -> None:
    env = Settings(database_url=database_url).persistence_env()
    factory = InfrastructureFactory.construct(env)
    try:
        expected = "storage.sqlite" if database_url.startswith("sqlite") else "storage.postgres"
        assert env["PERSISTENCE_MODULE"] == expected
        assert isinstance(factory, SealingSQLiteFactory | SealingPostgresFactory)
    finally:
        factory.close()


def test_a_store_that_cannot_seal_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    with pytest.raises(InfrastructureFactoryError, match=r"storage\.sqlite or storage\.postgres"):
        Orders(env)


def test_the_records_read_back_what_was_written_beside_the_events(service: Service) -> None:
    records = service.orders.records
    assert isinstance(records, Records) and records is service.orders.recorder
    key = CommandKey(SOCIAL_WORKER.id, "retry-1", "fingerprint")
    order = service.orders.handle(
        request_order(service.orders.now()), by=SOCIAL_WORKER, key=key
    ).order
    assert records.find_command_key(SOCIAL_WORKER.id, "retry-1") == key.with_result(order.id, 1, "")
    assert records.find_command_key(SOCIAL_WORKER.id, "never-used") is None
    log = records.select_log()
    assert [(e.order_id, e.version) for e in log] == [(order.id, 1)]
    assert [(s.order_id, s.version) for s in records.select_seals()] == [(order.id, 1)]
    events = records.select_log_events()
    assert [(e.order_id, e.version, e.topic) for e in events] == [
        (e.order_id, e.version, e.topic) for e in log
    ]
    assert all(e.state for e in events)


def test_every_shape_of_append_is_written_whole(service: Service) -> None:
    """An append writes what it is given, one of each or many (storage.schema.postgres_append
    takes its shape from them): a key with no new events too, as a command that decided
    nothing new keeps it."""
    orders, records = service.orders, service.orders.records
    key = CommandKey(SOCIAL_WORKER.id, "nothing-new", "f").with_result(uuid4(), 1, "")
    assert orders.recorder.insert_events([], command_key=key) == []
    assert records.find_command_key(SOCIAL_WORKER.id, "nothing-new") == key
    many = [orders.handle(request_order(orders.now()), by=SOCIAL_WORKER).order for _ in range(2)]
    for order in many:
        orders.handle(an_assessment(), order.id, by=INSPECTOR, key=None)
    together = orders.save(*(orders.get(o.id) for o in many))  # nothing new: no statement
    assert together == []
    sealed = {(s.order_id, s.version) for s in records.select_seals()}
    assert sealed == {(o.id, v) for o in many for v in (1, 2)}
    assert [f for f in verify_store(orders) if not f.holds] == []


def test_the_database_clock_is_postgresql_s_own_and_absent_on_sqlite(
    service: Service, database_url: str
) -> None:
    moment = service.orders.records.database_time()
    if database_url.startswith("sqlite"):
        assert moment is None
    else:
        assert moment is not None
        assert abs(moment - datetime.now(UTC)) < timedelta(minutes=1)


def test_processes_that_did_not_write_an_order_chain_its_seals_from_the_stored_digests(
    make_service: ServiceFactory,
) -> None:
    """Several orders' next events saved together by a process that never saw them: each
    previous digest is read (in one statement) and every chain verifies."""
    first, second = make_service(), make_service()
    ids = [
        first.orders.handle(request_order(first.orders.now()), by=SOCIAL_WORKER).order.id
        for _ in range(3)
    ]
    results = second.orders.handle_each(an_assessment(), ids, by=INSPECTOR)
    assert all(not isinstance(r, Exception) for r in results), results
    findings = verify_store(first.orders)
    assert len([f for f in findings if f.subject.startswith("order")]) >= 6
    assert all(f.holds for f in findings), [str(f) for f in findings if not f.holds]
