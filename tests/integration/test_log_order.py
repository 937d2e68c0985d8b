"""Appends take no table lock, and still no follower ever skips or repeats an event.

A transaction that drew a lower id may commit after one that drew a higher id; the follower
must neither pass over the first (skip) nor apply anything twice (storage.order).
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from orders.commands import Context
from orders.domain import ProtectionOrder
from projections.database import Transaction
from projections.follower import Follower, View
from service.bootstrap import Service
from tests.factories import SOCIAL_WORKER, request_order

WRITERS = 4
EACH = 60


class Counting(View):
    """Counts each event it is given: a repeat fails the table's key, and is also listed."""

    name = "counting"
    tables = (
        "CREATE TABLE IF NOT EXISTS counted (order_id TEXT NOT NULL, version BIGINT NOT NULL, "
        "PRIMARY KEY (order_id, version))",
    )

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        key = (str(event.originator_id), int(event.originator_version))
        tx.execute("INSERT INTO counted VALUES (?, ?)", key)
        self.seen.append(key)


class CountingToo(Counting):
    """A second view like the first: a follower claims its views' places together."""

    name = "counting_too"
    tables = (Counting.tables[0].replace("counted (", "counted_too ("),)

    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        key = (str(event.originator_id), int(event.originator_version))
        tx.execute("INSERT INTO counted_too VALUES (?, ?)", key)
        self.seen.append(key)


def counted(follower: Follower, table: str = "counted") -> list[tuple[str, int]]:
    rows = follower.db.query(f"SELECT order_id, version FROM {table}")
    return sorted((r["order_id"], int(r["version"])) for r in rows)


def stored(service: Service) -> list[tuple[str, int]]:
    return sorted((str(e.order_id), e.version) for e in service.orders.records.select_log_events())


def test_an_earlier_id_committed_later_is_neither_skipped_nor_repeated(
    service: Service, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite commits one writer at a time: ids are committed in order")
    follower = Follower(service.orders, [counting := Counting()])
    orders = service.orders
    context = Context(by=SOCIAL_WORKER, at=orders.now(), policy=orders.policy, vault=orders.vault)
    opened: ProtectionOrder = request_order(orders.now()).open(context)
    (event,) = [orders.mapper.to_stored_event(e) for e in opened.collect_events()]
    with psycopg.connect(database_url) as slow:  # a writer that draws its id, then dawdles
        slow.execute(
            "INSERT INTO orders_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)",
            (event.originator_id, event.originator_version, event.topic, event.state),
        )
        later = orders.handle(request_order(orders.now()), by=SOCIAL_WORKER)  # a higher id
        assert later.position is not None
        assert follower.catch_up() == 0  # the later event waits for the earlier transaction
        assert not follower.wait(later.position, projection="counting", timeout=0.1)
        slow.commit()
    assert follower.catch_up() == 2
    assert counting.seen == [(str(opened.id), 1), (str(later.order.id), 1)]  # in log order
    assert counted(follower) == stored(service)


def test_an_event_committed_while_a_full_batch_is_applied_is_applied_by_the_same_catch_up(
    service: Service, make_service: Any, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite lets no other writer commit while the batch's transaction is open")
    writer = make_service().orders  # another process's writer, committing on its own

    class WritingMeanwhile(Counting):
        """On its first event, another writer commits an order while this batch is open:
        the batch after it, read ahead, is read while this transaction is open."""

        def apply(self, event: Any, position: int, tx: Transaction) -> None:
            super().apply(event, position, tx)
            if len(self.seen) == 1:
                writer.handle(request_order(writer.now()), by=SOCIAL_WORKER)

    for _ in range(2):
        service.orders.handle(request_order(service.orders.now()), by=SOCIAL_WORKER)
    follower = Follower(service.orders, [WritingMeanwhile()], batch_size=2)

    assert follower.catch_up() == 3  # a full batch, then the order written meanwhile
    assert counted(follower) == stored(service)


def test_many_writers_and_two_followers_apply_each_event_once(
    service: Service, make_service: Any
) -> None:
    counting_a, counting_b = Counting(), Counting()
    too_a, too_b = CountingToo(), CountingToo()
    followers = [
        Follower(service.orders, [counting_a, too_a], batch_size=7),
        Follower(make_service().orders, [too_b, counting_b], batch_size=5),
    ]  # two processes' followers of two views: each event is applied by one of them
    writing = threading.Event()
    writing.set()

    def write() -> None:
        writer = make_service()
        for _ in range(EACH):
            writer.orders.handle(request_order(writer.orders.now()), by=SOCIAL_WORKER)

    def follow(follower: Follower) -> None:
        while writing.is_set():
            follower.catch_up()
        follower.catch_up()

    writers = [threading.Thread(target=write) for _ in range(WRITERS)]
    readers = [threading.Thread(target=follow, args=(f,)) for f in followers]
    for thread in (*writers, *readers):
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    for thread in readers:
        thread.join()
    followers[0].catch_up()

    assert len(stored(service)) == WRITERS * EACH
    assert counted(followers[0]) == stored(service)  # none skipped (the table's key: none twice)
    assert counted(followers[0], "counted_too") == stored(service)
    for one, other in ((counting_a, counting_b), (too_a, too_b)):
        assert sorted(one.seen + other.seen) == stored(service)  # none twice, by either
    assert all(lag.behind == 0 for lag in followers[0].lag())
