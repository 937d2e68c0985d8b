"""Read models live in the event store's own database; this is their one door to it.

Views write portable SQL with `?` placeholders; on PostgreSQL they become `%s`. Times are
stored as ISO 8601 text in UTC with a fixed width, so they compare and sort correctly as text
on both engines.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from eventsourcing.sqlite import SQLiteDatastore, SQLiteFactory

from storage.locks import creating_tables, immediate_transaction

Row = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    """A time as fixed-width ISO 8601 text in UTC, the form every view stores."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class Transaction:
    """One database transaction of the views, on either engine."""

    def __init__(self, cursor: Any, *, postgres: bool) -> None:
        self._cursor = getattr(cursor, "sqlite_cursor", cursor)  # the library wraps sqlite3's
        self._postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        params = [str(p) if isinstance(p, UUID) else p for p in params]
        if self._postgres:
            sql = sql.replace("?", "%s")
            # PostgreSQL text cannot hold NUL: one such value must never stall a view.
            params = [p.replace("\x00", "\ufffd") if isinstance(p, str) else p for p in params]
        self._cursor.execute(sql, tuple(params))

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]

    def fetchone(self) -> Row | None:
        row = self._cursor.fetchone()
        return None if row is None else dict(row)

    @property
    def rowcount(self) -> int:
        count: int = self._cursor.rowcount
        return count


class ViewDatabase:
    """Transactions on the database the application stores its events in."""

    def __init__(self, app: Application[Any]) -> None:
        factory = app.factory
        if not isinstance(factory, SQLiteFactory | PostgresFactory):
            raise TypeError(f"read models need SQLite or PostgreSQL, not {type(factory).__name__}")
        self._datastore: SQLiteDatastore | PostgresDatastore = factory.datastore
        self.postgres = isinstance(self._datastore, PostgresDatastore)

    @contextmanager
    def transaction(self, *, commit: bool = True, immediate: bool = False) -> Iterator[Transaction]:
        """A transaction; `immediate` on SQLite takes the write lock before its first
        statement, so a write after a read never finds another writer was first."""
        if immediate and isinstance(self._datastore, SQLiteDatastore):
            with immediate_transaction(self._datastore) as cursor:
                yield Transaction(cursor, postgres=False)
            return
        with self._datastore.transaction(commit=commit) as cursor:
            yield Transaction(cursor, postgres=self.postgres)

    @contextmanager
    def creating_tables(self) -> Iterator[Transaction]:
        """A transaction that creates tables while no other process does (storage.locks)."""
        if isinstance(self._datastore, PostgresDatastore):
            with creating_tables(self._datastore), self.transaction() as tx:
                yield tx
        else:
            with immediate_transaction(self._datastore) as cursor:
                yield Transaction(cursor, postgres=False)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.transaction(commit=False) as tx:
            tx.execute(sql, params)
            return tx.fetchall()
