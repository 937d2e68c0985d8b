"""The views' transactions: writes wait and go in batches, yet every statement takes effect as
if it had gone alone, in the order it was written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from orders.clock import SimulatedClock
from orders.staff import StaffMember
from orders.values import Actor, Role
from projections import staff
from projections.batches import ROWS_AT_ONCE
from projections.database import SEND_AT, Transaction, ViewDatabase
from service.bootstrap import Service

PROBE = (
    "CREATE TABLE IF NOT EXISTS probe "
    "(k TEXT PRIMARY KEY, v TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0)"
)
INSERT = "INSERT INTO probe (k, v) VALUES (?, ?)"
REFUSED = (sqlite3.IntegrityError, IntegrityError)  # sqlite3's own; the library's for psycopg


@pytest.fixture
def db(service: Service) -> ViewDatabase:
    db = service.views.db
    with db.transaction() as tx:
        tx.execute(PROBE)
    return db


def rows(db: ViewDatabase) -> list[tuple[str, str, int]]:
    return [(r["k"], r["v"], r["n"]) for r in db.query("SELECT * FROM probe ORDER BY k")]


def test_writes_take_effect_in_the_order_they_were_written(db: ViewDatabase) -> None:
    with db.transaction() as tx:
        tx.execute(INSERT, ("a", "first"))
        tx.execute(INSERT, ("b", "first"))
        tx.execute("UPDATE probe SET n = n + 1 WHERE k = ?", ("a",))
        tx.execute("UPDATE probe SET n = n + 1 WHERE k = ?", ("a",))
        tx.execute("DELETE FROM probe WHERE k = ?", ("b",))
        tx.execute(INSERT, ("b", "again"))  # only after the delete can b be inserted again
        tx.execute("UPDATE probe SET v = v || ?, n = n * 10 WHERE k = ?", ("+", "a"))
        tx.execute("UPDATE probe SET n = n + 1 WHERE k = ?", ("a",))
    assert rows(db) == [("a", "first+", 21), ("b", "again", 0)]


def test_a_read_in_the_transaction_sees_the_writes_before_it(db: ViewDatabase) -> None:
    with db.transaction() as tx:
        for k in "abc":
            tx.execute(INSERT, (k, "v"))
        tx.execute("UPDATE probe SET n = 7 WHERE k = ?", ("b",))
        tx.execute("SELECT k, n FROM probe ORDER BY k")
        assert tx.fetchall() == [{"k": "a", "n": 0}, {"k": "b", "n": 7}, {"k": "c", "n": 0}]
        tx.execute("DELETE FROM probe WHERE k = ?", ("a",))
        tx.execute("SELECT COUNT(*) AS n FROM probe")
        assert tx.fetchone() == {"n": 2}


def test_rowcount_counts_the_last_statement_alone(db: ViewDatabase) -> None:
    conflict = "INSERT INTO probe (k, v) VALUES (?, ?) ON CONFLICT DO NOTHING"
    with db.transaction() as tx:
        tx.execute(conflict, ("a", "v"))
        tx.execute(conflict, ("b", "v"))
        tx.execute(conflict, ("a", "again"))  # already there: nothing inserted
        assert tx.rowcount == 0
        tx.execute(conflict, ("a", "again"))
        tx.execute(conflict, ("c", "v"))
        assert tx.rowcount == 1
        tx.execute("UPDATE probe SET n = 1 WHERE k IN (?, ?)", ("a", "b"))
        tx.execute(INSERT, ("d", "v"))
        tx.execute("UPDATE probe SET n = 2 WHERE k <> ?", ("d",))
        assert tx.rowcount == 3
    assert rows(db) == [("a", "v", 2), ("b", "v", 2), ("c", "v", 2), ("d", "v", 0)]


def test_a_write_refused_in_a_batch_rolls_the_whole_transaction_back(db: ViewDatabase) -> None:
    with db.transaction() as tx:
        tx.execute(INSERT, ("kept", "v"))

    def writes_one_key_twice() -> None:
        with db.transaction() as tx:
            tx.execute(INSERT, ("a", "v"))
            tx.execute(INSERT, ("b", "v"))
            tx.execute(INSERT, ("a", "twice"))  # refused: the key is taken
            tx.execute(INSERT, ("c", "v"))
            tx.execute("UPDATE probe SET n = 1 WHERE k = ?", ("kept",))

    with pytest.raises(REFUSED):
        writes_one_key_twice()
    assert rows(db) == [("kept", "v", 0)]


class Recording:
    """The driver's cursor, noting each call the transaction makes on it."""

    def __init__(self, cursor: Any) -> None:
        self.cursor, self.calls = cursor, list[tuple[str, str, list[Any]]]()

    def execute(self, sql: str, params: Any = ()) -> None:
        self.calls.append(("execute", sql.replace("%s", "?"), list(params)))
        self.cursor.execute(sql, params)

    def executemany(self, sql: str, rows: list[Any]) -> None:
        self.calls.append(("executemany", sql.replace("%s", "?"), list(rows)))
        self.cursor.executemany(sql, rows)

    def fetchall(self) -> Any:
        return self.cursor.fetchall()

    @property
    def connection(self) -> Any:
        return self.cursor.connection

    @property
    def rowcount(self) -> int:
        return int(self.cursor.rowcount)


@pytest.fixture
def recording(service: Service, db: ViewDatabase) -> Iterator[tuple[Transaction, Recording]]:
    datastore: Any = service.orders.factory.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as cursor:
        driver = Recording(getattr(cursor, "sqlite_cursor", cursor))
        with Transaction(driver, postgres=db.postgres) as tx:
            yield tx, driver


def test_each_run_of_one_write_goes_to_the_driver_at_once_when_a_read_needs_it(
    recording: tuple[Transaction, Recording],
) -> None:
    tx, driver = recording
    bump = "UPDATE probe SET n = n + 1 WHERE k = ?"
    for k in "abc":
        tx.execute(INSERT, (k, "v"))
    tx.execute(bump, ("a",))
    tx.execute(bump, ("b",))
    tx.execute(INSERT, ("d", "v"))
    tx.execute("UPDATE probe SET n = 5 WHERE k = ?", ("d",))
    assert driver.calls == []  # nothing has gone yet
    tx.execute("SELECT k, n FROM probe WHERE n > 0 ORDER BY k")
    assert tx.fetchall() == [{"k": "a", "n": 1}, {"k": "b", "n": 1}, {"k": "d", "n": 5}]
    assert driver.calls == [
        (
            "execute",
            "INSERT INTO probe (k, v) VALUES (?, ?), (?, ?), (?, ?)",
            ["a", "v", "b", "v", "c", "v"],
        ),
        ("executemany", bump, [("a",), ("b",)]),
        ("execute", INSERT, ["d", "v"]),
        ("execute", "UPDATE probe SET n = 5 WHERE k = ?", ["d"]),
        ("execute", "SELECT k, n FROM probe WHERE n > 0 ORDER BY k", []),
    ]


def test_rows_go_together_only_where_that_changes_nothing(db: ViewDatabase) -> None:
    nothing = "INSERT INTO probe (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING"
    update = "INSERT INTO probe (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = probe.n + 1"
    reads_itself = "INSERT INTO probe (k, v) VALUES (?, (SELECT COUNT(*) FROM probe))"
    with db.transaction() as tx:
        for k, v in (("a", "first"), ("b", "first"), ("a", "second")):
            tx.execute(nothing, (k, v))  # the first of a key stays
        for k in "bcc":
            tx.execute(update, (k, "v"))  # PostgreSQL: no row updated twice in a statement
        for k in "xyz":
            tx.execute(reads_itself, (k,))  # each row sees those before it
    assert rows(db) == [
        ("a", "first", 0),
        ("b", "first", 1),
        ("c", "v", 1),
        ("x", "3", 0),
        ("y", "4", 0),
        ("z", "5", 0),
    ]


def test_a_long_run_of_one_insert_goes_in_statements_of_many_rows(
    recording: tuple[Transaction, Recording],
) -> None:
    tx, driver = recording
    many = 2 * ROWS_AT_ONCE + 3
    for i in range(many):
        tx.execute(INSERT, (f"k{i:03d}", "v"))
    tx.execute("SELECT COUNT(*) AS n, MIN(k) AS first, MAX(k) AS last FROM probe")
    assert tx.fetchall() == [{"n": many, "first": "k000", "last": f"k{many - 1:03d}"}]
    (how, full, runs), (_, rest, left), _ = driver.calls
    assert (how, full.count("(?, ?)"), len(runs)) == ("executemany", ROWS_AT_ONCE, 2)
    assert rest.count("(?, ?)") == 3
    assert left[::2] == [f"k{i:03d}" for i in range(2 * ROWS_AT_ONCE, many)]


def test_once_many_writes_wait_all_but_the_last_run_go_ahead_and_are_seen_done_at_a_read(
    recording: tuple[Transaction, Recording],
) -> None:
    tx, driver = recording
    for i in range(SEND_AT - 1):
        tx.execute(INSERT, (f"k{i:03d}", "v"))
    bump = "UPDATE probe SET n = n + 1 WHERE k = ?"
    tx.execute(bump, ("k000",))  # the queue is full: the inserts go, the update may grow
    sent = len(driver.calls)
    assert sent > 0 and all(sql.startswith("INSERT") for _, sql, _ in driver.calls)
    tx.execute(bump, ("k001",))
    assert len(driver.calls) == sent
    tx.execute("SELECT COUNT(*) AS n, SUM(n) AS bumped FROM probe")
    assert tx.fetchall() == [{"n": SEND_AT - 1, "bumped": 2}]
    assert driver.calls[sent][:2] == ("executemany", bump)


def test_a_write_refused_after_it_went_ahead_rolls_the_whole_transaction_back(
    db: ViewDatabase,
) -> None:
    def writes_one_key_twice_among_many() -> None:
        with db.transaction() as tx:
            tx.execute(INSERT, ("a", "v"))
            for i in range(2 * SEND_AT):
                tx.execute(INSERT, (f"k{i:04d}", "v"))
                tx.execute("UPDATE probe SET n = n + 1 WHERE k = ?", (f"k{i:04d}",))
            tx.execute(INSERT, ("a", "twice"))  # refused, wherever it goes
            for i in range(2 * SEND_AT):
                tx.execute("UPDATE probe SET n = n + 1 WHERE k = ?", (f"k{i:04d}",))

    with pytest.raises(REFUSED):
        writes_one_key_twice_among_many()
    assert rows(db) == []


def test_the_directory_a_transaction_has_read_is_read_again_once_it_changes(
    service: Service, clock: SimulatedClock
) -> None:
    admin = Actor("admin-1", Role.ADMIN)
    member = StaffMember.enrol(
        "insp-x",
        role=Role.INSPECTOR,
        districts=("Lenin",),
        email="x@police.example",
        phone=None,
        by=admin,
        at=clock(),
    )
    with service.views.db.transaction(commit=False) as tx:
        for event in member.collect_events():
            staff.apply(event, tx)
        assert staff.member(tx, "insp-x") == {
            "staff_id": "insp-x",
            "email": "x@police.example",
            "phone": None,
        }
        assert [m["staff_id"] for m in staff.covering(tx, "inspector", "Lenin")] == ["insp-x"]
        member.change(
            role=Role.INSPECTOR,
            districts=("Osh",),
            email=None,
            phone="+996 1",
            by=admin,
            at=clock(),
        )
        for event in member.collect_events():
            staff.apply(event, tx)
        assert staff.member(tx, "insp-x") == {
            "staff_id": "insp-x",
            "email": None,
            "phone": "+996 1",
        }
        assert staff.covering(tx, "inspector", "Lenin") == []
        assert [m["staff_id"] for m in staff.covering(tx, "inspector", "Osh")] == ["insp-x"]
