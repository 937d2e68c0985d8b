"""Snapshots (decision 021): an order loads from its latest snapshot as it would from all its
events; a snapshot the service did not write, or that the events no longer back, is ignored
with a warning naming the order, and the order replayed; a load at an earlier version never
uses a later snapshot; the integrity checks never read them."""

from __future__ import annotations

import base64
import logging
import os
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pyotp
import pytest
from eventsourcing.application import Repository
from eventsourcing.persistence import StoredEvent

from orders.alerting import ContactChannel
from orders.application import Orders
from orders.clock import SimulatedClock
from orders.commands import (
    Context,
    EnrolPresenceProof,
    Escalate,
    NewProof,
    RecordMissedCheckIns,
    RegisterContact,
    ReportBreach,
    RespondToBreach,
)
from orders.domain import ProtectionOrder
from orders.errors import OrderNotFound
from orders.presence import ProofKind
from orders.records import CommandKey
from orders.snapshots import marked
from orders.values import SYSTEM_ACTOR, BreachResponseKind, EscalationTarget, OrderKind
from service.bootstrap import Service, bootstrap
from service.integrity import verify_store
from service.settings import Settings
from storage.snapshots import PostgresSnapshots, SQLiteSnapshots
from tests import tampering
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, SOCIAL_WORKER, a_visit_command, an_assessment
from tests.integration.helpers import issued_order
from tests.integration.test_database_roles import owner_url, service_url  # noqa: F401 (fixtures)

EVERY = Orders.snapshotting_intervals[ProtectionOrder]


@pytest.fixture
def service(make_service: ServiceFactory) -> Service:
    """A service that keeps no order in memory: each load reads the snapshots."""
    return make_service(orders_in_memory=0)


def snapshots_table(database_url: str) -> str:
    return "stored_snapshots" if tampering.is_sqlite(database_url) else "orders_snapshots"


def snapshot_versions(database_url: str, order_id: UUID) -> list[int]:
    rows = tampering.sql(
        database_url,
        f"SELECT originator_version FROM {snapshots_table(database_url)} "
        "WHERE originator_id = %s ORDER BY originator_version",
        (tampering.stored_id(database_url, order_id),),
    )
    return [int(version) for (version,) in rows]


def replayed(orders: Orders, order_id: UUID, version: int | None = None) -> ProtectionOrder:
    """The order from its events alone, as the library loads it without snapshots."""
    order: ProtectionOrder = Repository(orders.events).get(order_id, version=version)
    return order


def state(order: ProtectionOrder) -> dict[str, Any]:
    return {k: v for k, v in vars(order).items() if k != "_pending_events"}


def visits(service: Service, clock: SimulatedClock, order_id: UUID, count: int) -> None:
    for _ in range(count):
        clock.advance(timedelta(hours=1))
        service.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)


def a_busy_order(service: Service, clock: SimulatedClock) -> UUID:
    """An order with a little of everything its state keeps: codes used and reused, a
    contact, a missed check-in and its alert, a breach answered, an escalation, a
    reassessment, late and timely visits."""
    orders = service.orders
    order_id = issued_order(orders, kind=OrderKind.COURT)
    enrolled = orders.handle(
        EnrolPresenceProof(person_id="p1", kind=ProofKind.APP), order_id, by=SOCIAL_WORKER
    ).returned
    assert isinstance(enrolled, NewProof)
    totp = pyotp.TOTP(enrolled.secret)
    contact = RegisterContact(person_id="p1", channel=ContactChannel.EMAIL, address="a@b.kg")
    orders.handle(contact, order_id, by=SOCIAL_WORKER)
    clock.advance(timedelta(days=8))
    orders.handle(RecordMissedCheckIns(), order_id, by=SYSTEM_ACTOR)
    breach = ReportBreach(occurred_at=clock() - timedelta(hours=1), description="At the door.")
    breach_id = orders.handle(breach, order_id, by=INSPECTOR).ref
    assert breach_id is not None
    answer = RespondToBreach(
        breach_id=breach_id, response=BreachResponseKind.WARNING, responded_at=clock()
    )
    orders.handle(answer, order_id, by=INSPECTOR)
    orders.handle(
        Escalate(target=EscalationTarget.SUPERVISOR, reason="again"), order_id, by=INSPECTOR
    )
    orders.handle(an_assessment(), order_id, by=INSPECTOR)
    for i in range(14):
        clock.advance(timedelta(hours=5))
        at = clock() - timedelta(days=3 if i == 5 else 0)  # one of them late
        code = totp.at(at) if i % 3 else totp.at(at - timedelta(hours=5))  # some out of time
        orders.handle(a_visit_command(at, proof_code=code), order_id, by=INSPECTOR)
    orders.handle(a_visit_command(at, proof_code=totp.at(at)), order_id, by=INSPECTOR)  # reused
    return order_id


def test_an_order_loads_from_its_snapshot_as_it_would_from_all_its_events(
    service: Service, clock: SimulatedClock, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    order_id = a_busy_order(service, clock)
    loaded, alone = service.orders.get(order_id), replayed(service.orders, order_id)
    assert loaded.version > 3 * EVERY
    # one snapshot each time the order reached a multiple of the interval, at the version
    # the save that reached it left the order at
    taken = snapshot_versions(database_url, order_id)
    assert [v // EVERY for v in taken] == list(range(1, loaded.version // EVERY + 1))
    assert state(loaded) == state(alone)
    assert loaded.used_codes.given and loaded.breaches and loaded.scrutiny.alerts
    # and both decide alike: the next sweep raises the same alerts
    later = clock() + timedelta(days=9)
    for order in (loaded, alone):
        RecordMissedCheckIns().decide(order, _context(service, later))
    assert _decided(loaded) == _decided(alone) != []
    assert not [
        r for r in caplog.records if r.name.startswith(("orders.snapshot", "orders.loading"))
    ]


def _context(service: Service, at: datetime) -> Context:
    orders = service.orders
    return Context(by=SYSTEM_ACTOR, at=at, policy=orders.policy, vault=orders.vault)


def _decided(order: ProtectionOrder) -> list[tuple[str, Any]]:
    return [
        (type(e).__name__, getattr(e, "window", None) or getattr(e, "kind", None))
        for e in order.pending_events
    ]


def test_an_order_loads_from_its_snapshot_not_from_its_events(
    service: Service, clock: SimulatedClock
) -> None:
    """What the snapshot says is what loads: a snapshot the service marks itself (here of a
    state its events never had) shows the load used it, and did not replay."""
    order_id = issued_order(service.orders)
    visits(service, clock, order_id, EVERY - 3 + 2)
    untrue = service.orders.repository.get(order_id, version=EVERY + 1)
    untrue.late_reports = 99
    assert service.orders.snapshots is not None
    service.orders.snapshots.put([ProtectionOrder.Snapshot.take(untrue)])
    assert service.orders.get(order_id).late_reports == 99
    assert service.orders.repository.get(order_id, version=EVERY).late_reports == 0


def forged(database_url: str, order_id: UUID, how: str) -> None:
    """The insider changes the snapshots table (it has no triggers: any client can)."""
    table, ident = snapshots_table(database_url), tampering.stored_id(database_url, order_id)
    where = "WHERE originator_id = %s AND originator_version = %s"
    ((topic, stored),) = tampering.sql(
        database_url, f"SELECT topic, state FROM {table} {where}", (ident, 2 * EVERY)
    )
    stored = bytes(stored)
    if how == "altered":  # her order revoked, as far as the snapshot tells
        assert stored.count(b'"status":"issued"') == 1
        new = stored.replace(b'"status":"issued"', b'"status":"revoked"')
        tampering.sql(
            database_url, f"UPDATE {table} SET state = %s {where}", (new, ident, 2 * EVERY)
        )
    elif how == "moved":  # a genuine snapshot, put at a later version
        tampering.sql(
            database_url,
            f"INSERT INTO {table} VALUES (%s, %s, %s, %s)",
            (ident, 2 * EVERY + 3, topic, stored),
        )
    elif how == "unbacked":  # the events after the snapshot's version removed, seals and all
        for version in range(2 * EVERY, 2 * EVERY + 7):
            tampering.delete_event(database_url, order_id, version, with_seal=True)
    else:  # a snapshot marked with a key of his own
        ((event_topic, event_state),) = tampering.sql(
            database_url,
            f"SELECT topic, state FROM {tampering.events_table(database_url)} {where}",
            (ident, 2 * EVERY + 4),
        )
        payload = StoredEvent(order_id, 2 * EVERY + 4, topic, stored[32:])
        event = StoredEvent(order_id, 2 * EVERY + 4, event_topic, bytes(event_state))
        own = marked(tampering.INSIDER_SEAL_KEY, payload, event)
        tampering.sql(
            database_url,
            f"INSERT INTO {table} VALUES (%s, %s, %s, %s)",
            (ident, 2 * EVERY + 4, topic, own.state),
        )


@pytest.mark.parametrize("how", ["altered", "moved", "own key", "unbacked"])
def test_a_snapshot_the_service_did_not_write_is_ignored_and_the_order_replayed(
    service: Service,
    clock: SimulatedClock,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    order_id = issued_order(service.orders)
    visits(service, clock, order_id, 2 * EVERY + 3)
    forged(database_url, order_id, how)
    with caplog.at_level(logging.WARNING, logger="orders.loading"):
        loaded = service.orders.get(order_id)
    assert state(loaded) == state(replayed(service.orders, order_id))
    assert loaded.version == (2 * EVERY - 1 if how == "unbacked" else 2 * EVERY + 6)
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "orders.loading"]
    assert warning == f"the snapshot of order {order_id} does not hold: replayed"
    if how != "unbacked":  # (the insider's deletion is verify-store's to name)
        assert [f for f in verify_store(service.orders) if not f.holds] == []


def test_as_of_and_a_repeated_command_never_use_a_later_snapshot(
    service: Service, clock: SimulatedClock
) -> None:
    orders = service.orders
    order_id = issued_order(orders)
    key = CommandKey(INSPECTOR.id, "visit-once", "fingerprint")
    first = orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR, key=key)
    visits(service, clock, order_id, EVERY - 5)
    then = clock()  # the order at EVERY - 1 events
    visits(service, clock, order_id, EVERY + 5)
    assert orders.get(order_id).version == 2 * EVERY + 4
    past = orders.as_of(order_id, then)
    assert past.version == EVERY - 1
    assert state(past) == state(replayed(orders, order_id, EVERY - 1))
    between = orders.repository.get(order_id, version=2 * EVERY - 1)
    assert state(between) == state(replayed(orders, order_id, 2 * EVERY - 1))
    again = orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR, key=key)
    assert again.order.version == first.order.version == 4
    assert state(again.order) == state(replayed(orders, order_id, 4))


def test_an_order_with_snapshots_verifies(service: Service, clock: SimulatedClock) -> None:
    order_id = issued_order(service.orders)
    visits(service, clock, order_id, 2 * EVERY)
    assert [f for f in verify_store(service.orders) if not f.holds] == []


def test_with_a_key_snapshots_are_encrypted_as_the_events_are(
    make_service: ServiceFactory, clock: SimulatedClock, database_url: str
) -> None:
    """A snapshot holds her narrative and names as the first event does: with a key, it is
    ciphertext too, and still loads."""
    service = make_service(encryption_key=base64.b64encode(os.urandom(32)).decode())
    order_id = issued_order(service.orders)
    visits(service, clock, order_id, EVERY)
    assert snapshot_versions(database_url, order_id) == [EVERY]
    ((stored,),) = tampering.sql(database_url, f"SELECT state FROM {snapshots_table(database_url)}")
    assert b"kitchen" not in bytes(stored) and b"Aizada" not in bytes(stored)
    loaded = service.orders.get(order_id)
    assert state(loaded) == state(replayed(service.orders, order_id))
    assert loaded.request.incident_narrative == "He struck her in the kitchen."


def test_the_service_role_writes_and_reads_snapshots(
    owner_url: str,  # noqa: F811
    service_url: str,  # noqa: F811
    clock: SimulatedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PostgreSQL with two roles: the owner's migration grants the service the snapshots
    table too (without, every snapshot would be refused and every load replay)."""
    service = bootstrap(
        Settings(database_url=service_url, owner_database_url=owner_url), clock=clock
    )
    try:
        order_id = issued_order(service.orders)
        visits(service, clock, order_id, EVERY)
        assert snapshot_versions(owner_url, order_id) == [EVERY]
        with caplog.at_level(logging.WARNING, logger="orders.loading"):
            loaded = service.orders.get(order_id)
        assert state(loaded) == state(replayed(service.orders, order_id))
        assert not [r for r in caplog.records if r.name == "orders.loading"]
    finally:
        service.close()


def test_a_role_that_may_not_write_snapshots_still_records_every_command(
    owner_url: str,  # noqa: F811
    service_url: str,  # noqa: F811
    clock: SimulatedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Snapshots go in the events' own statement (decision 024): where the table may not be
    written (a store not yet migrated), none is, rather than every tenth command failing."""
    settings = Settings(database_url=service_url, owner_database_url=owner_url)
    bootstrap(settings, clock=clock).close()  # migrated: the grant is given...
    role = service_url.split("//")[1].split("@")[0]
    tampering.sql(owner_url, f"REVOKE INSERT ON orders_snapshots FROM {role}")  # ...and lost
    with caplog.at_level(logging.WARNING, logger="storage.records"):
        service = bootstrap(  # the service alone, as in production once migrated
            Settings(database_url=service_url, create_tables=False, orders_in_memory=0),
            clock=clock,
        )
    try:
        assert "run `protection-orders migrate`" in caplog.text
        order_id = issued_order(service.orders)
        visits(service, clock, order_id, EVERY + 2)  # each one recorded
        assert snapshot_versions(owner_url, order_id) == []
        loaded = service.orders.get(order_id)
        assert loaded.version == 3 + EVERY + 2
        assert state(loaded) == state(replayed(service.orders, order_id))
    finally:
        service.close()


def test_taking_a_snapshot_never_raises(service: Service, caplog: pytest.LogCaptureFixture) -> None:
    """A snapshot asked for on its own (here, of no such order) fails with a warning only."""
    missing = uuid4()
    with caplog.at_level(logging.WARNING, logger="orders.snapshotting"):
        service.orders.take_snapshot(missing, version=EVERY)
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "orders.snapshotting"]
    assert warning.startswith(f"no snapshot of order {missing} taken at {EVERY}")


def test_each_engine_keeps_snapshots_with_a_recorder_of_ours(service: Service) -> None:
    """Each engine's factory names its snapshots recorder (`aggregate_recorder_class`): its
    table created under the schema lock, read once, with the events in one query. The
    library's own would retry a read ten times while the database is away."""
    assert service.orders.snapshots is not None
    assert isinstance(service.orders.snapshots.recorder, SQLiteSnapshots | PostgresSnapshots)


@pytest.mark.parametrize("how", ["altered", "unbacked"])
def test_orders_read_together_are_those_read_one_by_one(
    service: Service, clock: SimulatedClock, database_url: str, how: str
) -> None:
    """The sweep reads many orders at once (`Orders.get_many`): each as a load of it alone
    gives it, a snapshot that does not hold replayed, an order not found named."""
    order_ids = [issued_order(service.orders) for _ in range(3)]
    for order_id in order_ids:
        visits(service, clock, order_id, 2 * EVERY + 3)
    forged(database_url, order_ids[1], how)
    ghost = uuid4()
    loaded = service.orders.get_many([*order_ids, ghost])
    assert list(loaded) == [*order_ids, ghost]
    for order_id in order_ids:
        one = loaded[order_id]
        assert isinstance(one, ProtectionOrder)
        assert state(one) == state(replayed(service.orders, order_id))
    assert isinstance(loaded[ghost], OrderNotFound)
