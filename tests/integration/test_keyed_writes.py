"""Writes to a declared table under different keys go in rounds, and a run of one UPDATE under
different keys as one statement on PostgreSQL; the rows end as if each write went alone."""

from __future__ import annotations

from typing import Any

import pytest

from projections.database import ViewDatabase
from projections.keyed import Schema, plan
from service.bootstrap import Service

LEDGER = (
    "CREATE TABLE IF NOT EXISTS ledger (k TEXT PRIMARY KEY, badge TEXT, n INTEGER NOT NULL "
    "DEFAULT 0, best INTEGER, note TEXT)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_badge ON ledger (badge)",
)
INSERT = "INSERT INTO ledger (k, badge) VALUES (?, ?)"
BUMP = "UPDATE ledger SET n = n + ?, note = ? WHERE k = ?"
BEST = (
    "UPDATE ledger SET best = CASE WHEN best IS NULL OR best < ? THEN ? ELSE best END WHERE k = ?"
)
REBADGE = "UPDATE ledger SET badge = ? WHERE k = ?"
RESET = "UPDATE ledger SET n = ?, note = NULL, best = ? WHERE k = ?"  # constants only
DOUBLE = "UPDATE ledger SET n = n * 2, note = ? WHERE k = ?"  # reads n


@pytest.fixture
def db(service: Service) -> ViewDatabase:
    db = ViewDatabase(service.orders)
    db.declare(LEDGER)
    with db.transaction() as tx:
        for statement in LEDGER:
            tx.execute(statement)
    return db


def ledger(db: ViewDatabase) -> list[tuple[Any, ...]]:
    rows = db.query("SELECT k, badge, n, best, note FROM ledger ORDER BY k")
    return [(r["k"], r["badge"], r["n"], r["best"], r["note"]) for r in rows]


def test_interleaved_writes_under_many_keys_end_as_if_each_went_alone(db: ViewDatabase) -> None:
    expected: dict[str, list[Any]] = {}
    with db.transaction() as tx:
        for step in range(60):
            k = f"k{step % 7}"
            if k not in expected:
                tx.execute(INSERT, (k, f"b{k}"))
                expected[k] = [k, f"b{k}", 0, None, None]
            tx.execute(BUMP, (step, None if step % 3 else f"s{step}", k))
            expected[k][2] += step
            expected[k][4] = None if step % 3 else f"s{step}"
            window = (step * 5) % 11
            tx.execute(BEST, (window, window, k))
            expected[k][3] = max(window, expected[k][3] or 0)
            if step % 5 == 0:
                tx.execute(RESET, (step, step % 4 or None, k))
                expected[k][2:5] = [step, step % 4 or None, None]
            if step % 9 == 0:
                tx.execute(DOUBLE, (f"d{step}", k))
                expected[k][2] *= 2
                expected[k][4] = f"d{step}"
    assert ledger(db) == sorted(tuple(row) for row in expected.values())


def test_an_update_of_a_unique_column_keeps_its_place_among_the_inserts(db: ViewDatabase) -> None:
    with db.transaction() as tx:
        tx.execute(INSERT, ("a", "red"))
        tx.execute(REBADGE, ("blue", "a"))  # frees "red" for b: b's insert must not go first
        tx.execute(INSERT, ("b", "red"))
        tx.execute(BUMP, (1, None, "a"))
    assert ledger(db) == [("a", "blue", 1, None, None), ("b", "red", 0, None, None)]


def test_the_first_write_under_every_key_goes_before_the_second() -> None:
    writes = [
        (INSERT, ("a", "x")),
        (BUMP, (1, None, "a")),
        (INSERT, ("b", "y")),
        (BUMP, (2, None, "b")),
        (BUMP, (3, None, "a")),
    ]
    (stretch,) = plan(writes, Schema(LEDGER))
    assert stretch.runs() == [
        (INSERT, [("a", "x"), ("b", "y")]),
        (BUMP, [(1, None, "a"), (2, None, "b")]),
        (BUMP, [(3, None, "a")]),
    ]


def test_an_update_another_makes_moot_under_its_key_is_left_out() -> None:
    writes = [
        (INSERT, ("a", "x")),
        (BUMP, (1, "one", "a")),  # n and note, which RESET sets to constants: left out
        (BUMP, (2, "two", "b")),  # under another key, and read by DOUBLE: stays
        (RESET, (0, 5, "a")),  # read by DOUBLE: stays
        (DOUBLE, ("twice", "a")),
        (DOUBLE, ("again", "b")),
    ]
    (stretch,) = plan(writes, Schema(LEDGER))
    assert stretch.runs() == [
        (INSERT, [("a", "x")]),
        (BUMP, [(2, "two", "b")]),
        (RESET, [(0, 5, "a")]),
        (DOUBLE, [("again", "b")]),
        (DOUBLE, [("twice", "a")]),
    ]


def test_a_write_with_a_comment_is_not_read_past_it_and_keeps_its_place() -> None:
    commented = "UPDATE ledger SET n = ? -- , note = NULL\n WHERE k = ?"
    writes = [(BUMP, (1, "one", "a")), (commented, (5, "a"))]  # BUMP's note must stay
    assert [run for s in plan(writes, Schema(LEDGER)) for run in s.runs()] == [
        (BUMP, [(1, "one", "a")]),
        (commented, [(5, "a")]),
    ]


def test_writes_to_an_undeclared_table_keep_their_order() -> None:
    writes = [(INSERT, ("a", "x")), (BUMP, (1, None, "a")), (INSERT, ("b", "y"))]
    assert [s.runs() for s in plan(writes, Schema())] == [[(sql, [p])] for sql, p in writes]


def test_a_run_of_one_update_under_different_keys_is_one_statement_on_postgresql(
    db: ViewDatabase, service: Service
) -> None:
    if not db.postgres:
        pytest.skip("SQLite takes a run of one UPDATE as one executemany")
    with db.transaction() as tx:
        for i in range(30):
            tx.execute(INSERT, (f"k{i:02d}", None))
    statements: list[str] = []
    with db.transaction() as tx:
        run = tx._run  # the statements as they go to the driver

        def noting(sql: str, rows: Any) -> None:
            statements.append(sql)
            run(sql, rows)

        tx._run = noting  # type: ignore[method-assign]
        for i in range(30):
            tx.execute(BUMP, (i, None if i % 2 else "even", f"k{i:02d}"))
    assert len(statements) == 2  # twenty rows, then ten
    assert all("FROM (VALUES" in sql for sql in statements)
    assert ledger(db)[:3] == [
        ("k00", None, 0, None, "even"),
        ("k01", None, 1, None, None),
        ("k02", None, 2, None, "even"),
    ]


def test_the_schema_knows_each_tables_unique_and_text_columns_and_leaves_some_out() -> None:
    schema = Schema(
        (
            *LEDGER,
            "CREATE TABLE IF NOT EXISTS pair (a TEXT NOT NULL, b TEXT, n INTEGER, "
            "PRIMARY KEY (a, b))",
            "CREATE TABLE IF NOT EXISTS folded (k TEXT COLLATE NOCASE PRIMARY KEY)",
            "CREATE TABLE IF NOT EXISTS child (k TEXT PRIMARY KEY, up TEXT REFERENCES child (k))",
        )
    )
    assert schema.tables["ledger"].unique == {"k", "badge"}
    assert schema.tables["ledger"].text == {"k", "badge", "note"}
    assert schema.tables["pair"].unique == {"a", "b"}
    assert "folded" not in schema.tables and "child" not in schema.tables


def test_writes_go_ahead_once_their_view_is_done_with_the_batch(db: ViewDatabase) -> None:
    sent: list[str] = []
    with db.transaction() as tx:
        run = tx._run

        def noting(sql: str, rows: Any) -> None:
            sent.append(sql)
            run(sql, rows)

        tx._run = noting  # type: ignore[method-assign]
        tx.execute(INSERT, ("a", "x"))
        tx.execute(BUMP, (1, "n", "a"))
        assert sent == []  # they wait
        tx.send()
        assert sent == [INSERT, BUMP]  # gone, not waited for
    assert ledger(db) == [("a", "x", 1, None, "n")]
