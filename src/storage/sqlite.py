"""SQLite as the event store: PERSISTENCE_MODULE=storage.sqlite.

The library takes the one infrastructure factory class in this module as the one to build,
so only the library's module is imported here, never its factory class by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import eventsourcing.sqlite
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from orders.records import Sealing
from storage import order, schema
from storage.locks import immediate_transaction
from storage.records import Row, SealedRecords
from storage.sealing import ROWS_PER_STATEMENT, KnownDigests
from storage.snapshots import SQLiteSnapshots


class SealingSQLiteRecorder(SealedRecords, SQLiteApplicationRecorder):
    """SQLite event recorder that also writes seals and command keys, and forbids changes."""

    def __init__(
        self,
        datastore: SQLiteDatastore,
        events_table_name: str = "stored_events",
        *,
        sealing: Sealing | None = None,
    ) -> None:
        super().__init__(datastore, events_table_name)
        self.sealing = sealing
        self.known = KnownDigests()

    def create_table(self) -> None:
        """The library's tables and ours, in a transaction that holds the write lock from the
        start (storage.locks)."""
        with immediate_transaction(self.datastore) as c:
            self._create_table(c)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *schema.TABLES,
            *schema.sqlite_triggers(self.events_table_name),
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert, then the seals, command key and snapshots with it, once the
        links (storage.sealing) are found to hold."""
        returning = super()._insert_events(c, stored_events, **kwargs)

        def read(sql: str, params: tuple[Any, ...]) -> list[Row]:
            c.execute(sql, params)
            return [dict(row) for row in c.fetchall()]

        beside = self._beside(read, stored_events, kwargs)
        for start in range(0, len(beside.links), ROWS_PER_STATEMENT):
            links = beside.links[start : start + ROWS_PER_STATEMENT]
            marks = ", ".join("(?, ?, ?)" for _ in links)
            held = read(
                schema.COUNT_LINKS_HELD.format(links=marks), tuple(x for k in links for x in k)
            )
            if held[0]["held"] != len(links):  # the transaction is rolled back: nothing stays
                raise self._links_broken(beside.links)
        for start in range(0, len(beside.seals), ROWS_PER_STATEMENT):
            part = beside.seals[start : start + ROWS_PER_STATEMENT]
            marks = ", ".join("(?, ?, ?, ?)" for _ in part)
            c.execute(schema.INSERT_SEALS.format(rows=marks), tuple(x for s in part for x in s))
        c.executemany(schema.INSERT_KEY, beside.keys)
        if beside.snapshots:
            statement = schema.INSERT_SNAPSHOT.format(snapshots=self.snapshots_table)
            c.executemany(
                statement,
                [
                    (UUID(str(s.originator_id)).hex, s.originator_version, s.topic, s.state)
                    for s in beside.snapshots
                ],
            )
        return returning

    def _writable(self, table: str) -> bool:
        return bool(self._rows(schema.SQLITE_HAS_TABLE, (table,)))  # no roles: anyone writes

    def _rows(self, sql: str, params: tuple[Any, ...] = (), *, commit: bool = False) -> list[Row]:
        statement = order.fill(sql, self.events_table_name, order.SQLITE)
        with self.datastore.transaction(commit=commit) as c:
            c.execute(statement, params)
            return [dict(row) for row in c.fetchall()]

    def _batch(self, steps: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        with self.datastore.transaction(commit=True) as c:
            for sql, rows in steps:
                c.executemany(sql, rows)

    def _after(self, place: order.Place) -> tuple[int, ...]:
        return (place[1],)  # one writer at a time: ids are committed in order (storage.order)

    def select_after(self, tx: int, position: int, limit: int) -> list[tuple[int, Notification]]:
        notifications = self.select_notifications(
            start=position, limit=limit, inclusive_of_start=False
        )
        return [(0, n) for n in notifications]

    def database_time(self) -> datetime | None:
        return None  # SQLite's time is the host's: the service's own clock serves


class SealingSQLiteFactory(eventsourcing.sqlite.SQLiteFactory):
    """The library's SQLite factory; its application recorder seals and keeps command keys,
    its snapshots table is created as ours are (storage.snapshots)."""

    application_recorder_class = SealingSQLiteRecorder
    aggregate_recorder_class = SQLiteSnapshots

    def sealing_recorder(self, sealing: Sealing) -> SealingSQLiteRecorder:
        recorder = SealingSQLiteRecorder(self.datastore, sealing=sealing)
        if self.env_create_table():
            recorder.create_table()
        return recorder
