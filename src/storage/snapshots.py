"""The snapshots table on each engine: the library's, created as every table of ours is.

Its table is created while no other process creates any (storage.locks), so any number of
processes may start at once on a new database. On PostgreSQL each read is tried once, as the
events' are (storage.postgres), so a database that went away answers a request in the
bounded time, never after the library's ten tries; and a snapshot is written without waiting
for the disk. An order is loaded in one query: its latest snapshot at or below a version,
with its events from that snapshot's version on (orders.snapshotting). Snapshots are not
evidence (orders.snapshots): the table has no triggers, and the integrity checks never read
it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL, Identifier

from storage.locks import creating_tables, immediate_transaction
from storage.selects import RenderedSelects

LAST_VERSION = 2**62  # "at or below no version": one statement, whatever is asked

LATEST_WITH_EVENTS = (
    "WITH latest AS (SELECT originator_version, topic, state FROM {snapshots} "
    "WHERE originator_id = %s AND originator_version <= %s "
    "ORDER BY originator_version DESC LIMIT 1) "
    "SELECT 1 AS snapshot, originator_version, topic, state FROM latest "
    "UNION ALL "
    "SELECT 0, originator_version, topic, state FROM {events} "
    "WHERE originator_id = %s AND originator_version <= %s "
    "AND originator_version >= COALESCE((SELECT originator_version FROM latest), 0) "
    "ORDER BY snapshot DESC, originator_version"
)

LATEST_WITH_EVENTS_OF = (
    "WITH latest AS (SELECT originator_id, MAX(originator_version) AS version "
    "FROM {snapshots} WHERE originator_id IN ({orders}) GROUP BY originator_id) "
    "SELECT 1 AS snapshot, s.originator_id, s.originator_version, s.topic, s.state "
    "FROM {snapshots} s JOIN latest l ON s.originator_id = l.originator_id "
    "AND s.originator_version = l.version "
    "UNION ALL "
    "SELECT 0, e.originator_id, e.originator_version, e.topic, e.state FROM {events} e "
    "LEFT JOIN latest l ON l.originator_id = e.originator_id "
    "WHERE e.originator_id IN ({orders}) AND e.originator_version >= COALESCE(l.version, 0) "
    "ORDER BY 2, 1 DESC, 3"
)

Latest = dict[UUID, tuple[StoredEvent | None, list[StoredEvent]]]

Method = TypeVar("Method", bound=Callable[..., Any])


def _once(method: Method) -> Method:
    """The library's method without its retry decorator (as storage.postgres does, which
    imports this module)."""
    unwrapped: Method = getattr(method, "__wrapped__", method)
    return unwrapped


def _split(order_id: UUID, rows: Sequence[Any]) -> tuple[StoredEvent | None, list[StoredEvent]]:
    """The snapshot row (the first, if any) and the event rows after it."""
    stored = [
        StoredEvent(order_id, int(r["originator_version"]), r["topic"], bytes(r["state"]))
        for r in rows
    ]
    if rows and rows[0]["snapshot"]:
        return stored[0], stored[1:]
    return None, stored


def _split_many(rows: Sequence[Any]) -> Latest:
    """Each order's snapshot row (None: none) and event rows after it, by order."""
    found: dict[UUID, list[Any]] = {}
    for row in rows:
        found.setdefault(UUID(str(row["originator_id"])), []).append(row)
    return {order_id: _split(order_id, its) for order_id, its in found.items()}


class SQLiteSnapshots(SQLiteAggregateRecorder):
    """The library's snapshots table on SQLite, created holding the write lock."""

    def create_table(self) -> None:
        with immediate_transaction(self.datastore) as c:
            self._create_table(c)

    def select_latest_with_events(
        self, order_id: UUID, *, lte: int | None, events_table: str
    ) -> tuple[StoredEvent | None, list[StoredEvent]]:
        """The latest snapshot at or below `lte` (None: none), and the order's events up to
        `lte` from the snapshot's version on (the event it was taken at first), or all."""
        statement = LATEST_WITH_EVENTS.format(snapshots=self.events_table_name, events=events_table)
        last = LAST_VERSION if lte is None else lte
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement.replace("%s", "?"), (order_id.hex, last, order_id.hex, last))
            return _split(order_id, c.fetchall())

    def select_latest_with_events_of(
        self, order_ids: Sequence[UUID], *, events_table: str
    ) -> Latest:
        """Each order's latest snapshot (None: none) and its events from that snapshot's
        version on, or all, in one read; an order with no events is left out."""
        marks = ", ".join("?" for _ in order_ids)
        statement = LATEST_WITH_EVENTS_OF.format(
            snapshots=self.events_table_name, events=events_table, orders=marks
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, [o.hex for o in order_ids] * 2)
            return _split_many(c.fetchall())


class PostgresSnapshots(RenderedSelects, PostgresAggregateRecorder):
    """The library's snapshots table on PostgreSQL, created under the schema lock; each read
    and write tried once."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """Without waiting for the disk: a snapshot is no evidence, and one a crash loses
        costs only a longer replay, while waiting adds a flush to every tenth command."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SET LOCAL synchronous_commit TO OFF")
            self._insert_stored_events(curs, stored_events, **kwargs)

    def create_table(self) -> None:
        with creating_tables(self.datastore):
            super().create_table()

    def select_latest_with_events(
        self, order_id: UUID, *, lte: int | None, events_table: str
    ) -> tuple[StoredEvent | None, list[StoredEvent]]:
        """As SQLiteSnapshots.select_latest_with_events."""
        last = LAST_VERSION if lte is None else lte
        with self.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            statement = self._text_of(LATEST_WITH_EVENTS, events_table, conn)
            curs.execute(statement, (order_id, last, order_id, last), prepare=True)
            return _split(order_id, curs.fetchall())

    def select_latest_with_events_of(
        self, order_ids: Sequence[UUID], *, events_table: str
    ) -> Latest:
        """As SQLiteSnapshots.select_latest_with_events_of."""
        of_any = LATEST_WITH_EVENTS_OF.replace("IN ({orders})", "= ANY(%s)")
        with self.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            statement = self._text_of(of_any, events_table, conn)
            curs.execute(statement, (list(order_ids), list(order_ids)))
            return _split_many(curs.fetchall())

    def _text_of(self, template: str, events_table: str, conn: Any) -> str:
        """`template` with this table's and `events_table`'s names, rendered once."""
        return self._once(
            (template, events_table),
            lambda: SQL(template).format(
                snapshots=Identifier(self.events_table_name), events=Identifier(events_table)
            ),
            conn,
        )
