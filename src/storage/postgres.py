"""PostgreSQL as the event store: PERSISTENCE_MODULE=storage.postgres.

The library takes the one infrastructure factory class in this module as the one to build,
so only the library's module is imported here, never its factory class by name.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import eventsourcing.postgres
import psycopg_pool
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from psycopg import Connection, Cursor
from psycopg.sql import SQL, Identifier

from orders.records import Sealing
from storage import order, schema
from storage.locks import creating_tables
from storage.records import Row, SealedRecords
from storage.sealing import KnownDigests
from storage.selects import RenderedSelects
from storage.snapshots import PostgresSnapshots

KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def _postgres(sql: str, events_table: str) -> str:
    return order.fill(sql, events_table, order.POSTGRES).replace("?", "%s")


Method = TypeVar("Method", bound=Callable[..., Any])


def _once(method: Method) -> Method:
    """The library's method without its retry decorator (if it still has one)."""
    unwrapped: Method = getattr(method, "__wrapped__", method)
    return unwrapped


class TriedOnceRecorder(RenderedSelects, PostgresApplicationRecorder):
    """The library's recorder, each read and write tried once.

    The library retries these ten times, 0.2 s apart, and each attempt may wait the pool's
    and the lock's whole timeout: with the database down a request waited minutes. Now it
    waits once, then answers 503 with Retry-After; pooled connections are checked before use
    (so none a restart cut is handed out), and a command resent with its Idempotency-Key is
    stored once, even if the first attempt did commit.
    """

    insert_events = _once(PostgresApplicationRecorder.insert_events)
    select_notifications = _once(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _once(PostgresApplicationRecorder.max_notification_id)


class SealingPostgresRecorder(SealedRecords, TriedOnceRecorder):
    """PostgreSQL event recorder that also writes seals and command keys, and forbids changes."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
        sealing: Sealing | None = None,
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.sealing = sealing
        self.known = KnownDigests()
        self.sql_create_statements[self.create_table_statement_index] = SQL(
            schema.postgres_events_table(self.events_table_name, datastore.originator_id_type)
        ).format(table=Identifier(self.events_table_name))
        for statement in (
            *schema.TABLES,
            *schema.postgres_log_order(self.events_table_name),
            *schema.postgres_triggers(self.events_table_name),
        ):
            self.sql_create_statements.append(SQL(statement).format())

    def create_table(self) -> None:
        """The library's tables and ours, while no other process creates any."""
        with creating_tables(self.datastore):
            super().create_table()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        """The events, their seals, the command key and any snapshots in one statement: one
        round trip, committed on its own.

        No lock of the events table and no NOTIFY, unlike the library: it locks the table
        through the commit so that ids are committed in order, which lets one writer commit at
        a time; here writers commit together and readers follow the log in an order that
        holds however they interleave (storage.order). The seals are computed first (an
        unknown previous digest is read before). A write that meets another fails on the
        events' key, or the command key's, and is reported as a conflict; nothing of it stays.
        So is one whose links (storage.sealing) do not hold: then no row of it is written.
        """
        self.known.begin()
        beside = self._beside(self._rows, stored_events, kwargs)
        events = [(e.originator_id, e.originator_version, e.topic, e.state) for e in stored_events]
        snapshots = [
            (s.originator_id, s.originator_version, s.topic, s.state) for s in beside.snapshots
        ]
        parts: tuple[list[tuple[Any, ...]], ...] = (
            events,
            list(beside.seals),
            beside.keys,
            snapshots,  # none unless the table may be written (`_beside`)
            list(beside.links),
        )
        a, b, c, d, e = (min(len(rows), 2) for rows in parts)
        shape = (a, b, c, d, e)
        params: list[Any] = [len(beside.links)] if beside.links else []
        for rows in (parts[4], *parts[:4]):
            if len(rows) == 1:
                params += rows[0]
            elif rows:
                params += [list(column) for column in zip(*rows, strict=True)]
        if not any(shape):
            self.known.committed()
            return []
        with self.datastore.get_connection() as conn:
            ids = conn.execute(self._append(conn, shape), params, prepare=True).fetchall()
        if len(ids) < len(events):  # a link did not hold: nothing was written
            raise self._links_broken(beside.links)
        self.known.committed()
        return [row["notification_id"] for row in ids]

    def _append(self, conn: Connection[Any], shape: schema.Shape) -> str:
        """The append statement of this shape, rendered once."""
        schema_name = self.datastore.schema
        return self._once(
            ("append", shape),
            lambda: SQL(schema.postgres_append(shape)).format(
                events=Identifier(schema_name, self.events_table_name),
                snapshots=Identifier(schema_name, self.snapshots_table or ""),
                id=SQL(self.datastore.originator_id_type),
            ),
            conn,
        )

    def _writable(self, table: str) -> bool:
        rows = self._rows(schema.POSTGRES_WRITABLE, (table,))
        return bool(rows and rows[0]["writable"])

    def _rows(self, sql: str, params: tuple[Any, ...] = (), *, commit: bool = False) -> list[Row]:
        """The rows of one statement. A read runs on its own, in autocommit: one round trip,
        where a transaction around it took three (BEGIN, it, ROLLBACK). A write is committed
        in a transaction of its own."""
        with self.datastore.transaction(commit=True) if commit else self._alone() as curs:
            curs.execute(_postgres(sql, self.events_table_name), params)
            return [dict(row) for row in curs.fetchall()] if curs.description else []

    @contextmanager
    def _alone(self) -> Iterator[Cursor[Any]]:
        """A cursor of a pooled connection, in autocommit: each statement on its own."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs

    def _batch(self, steps: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for sql, rows in steps:
                curs.executemany(_postgres(sql, self.events_table_name), rows)

    def _after(self, place: order.Place) -> tuple[int, ...]:
        return place

    def select_after(self, tx: int, position: int, limit: int) -> list[tuple[int, Notification]]:
        statement = _postgres(schema.SELECT_AFTER, self.events_table_name)
        with self.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            curs.execute(statement, (tx, position, limit), prepare=True)
            return [
                (
                    int(row["tx"]),
                    Notification(
                        id=row["notification_id"],
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    ),
                )
                for row in curs.fetchall()
            ]

    def database_time(self) -> datetime | None:
        moment: datetime = self._rows(schema.SELECT_DATABASE_TIME)[0]["now"]
        return moment


CHECK_AFTER_IDLE_SECONDS = 1.0


class RecentlyUsed:
    """Checks a pooled connection with a round trip before use only if it was last handed out
    a while ago: one handed out a moment ago was alive then, and checking it before each of a
    command's uses cost a quarter of the command. (The time it was handed out, not returned:
    noting returns runs each return on the pool's worker thread, whose turn for the
    interpreter then delays the next statement.) One found dead means the server dropped
    them all (a restart, a failover): every idle one is checked at once and the dead
    replaced, instead of the pool trying them one by one, a second apart."""

    def __init__(self, pool: psycopg_pool.ConnectionPool[Any], idle: float) -> None:
        self.pool, self.idle = pool, idle
        self._handed: weakref.WeakKeyDictionary[Connection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    def check(self, conn: Connection[Any]) -> None:
        now = time.monotonic()
        at, self._handed[conn] = self._handed.get(conn), now
        if at is not None and now - at < self.idle:
            return
        try:
            psycopg_pool.ConnectionPool.check_connection(conn)
        except Exception:
            self.pool.check()
            raise


class SealingPostgresFactory(eventsourcing.postgres.PostgresFactory):
    """The library's PostgreSQL factory; its application recorder seals and keeps command keys.

    Each new connection of its pool gives up after the connect timeout (the library passes
    that setting to the pool's wait only), and TCP keepalives find a server that vanished
    without closing its connections."""

    application_recorder_class = SealingPostgresRecorder
    aggregate_recorder_class = PostgresSnapshots  # the snapshots' table (storage.snapshots)

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        seconds = int(self.env.get(self.POSTGRES_CONNECT_TIMEOUT) or 10)
        pool = self.datastore.pool
        kwargs = pool.kwargs
        assert isinstance(kwargs, dict)  # the library gives a dict
        kwargs.update(connect_timeout=max(seconds, 2), **KEEPALIVES)
        if pool._check is not None:  # pre-ping: only connections idle a while
            recent = RecentlyUsed(pool, CHECK_AFTER_IDLE_SECONDS)
            pool._check = recent.check

    def sealing_recorder(self, sealing: Sealing) -> SealingPostgresRecorder:
        table = (self.env.name.lower() or "stored") + "_events"  # the library's own naming
        recorder = SealingPostgresRecorder(self.datastore, events_table_name=table, sealing=sealing)
        if self.env_create_table():
            recorder.create_table()
        return recorder
