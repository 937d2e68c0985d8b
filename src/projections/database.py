"""Read models live in the event store's own database; this is their one door to it.

Views write portable SQL with `?` placeholders; on PostgreSQL they become $1, $2 ... (a
RawCursor: psycopg parses no statement). Times are
stored as ISO 8601 text in UTC with a fixed width, so they compare and sort correctly as text
on both engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from eventsourcing.sqlite import SQLiteDatastore, SQLiteFactory
from psycopg import Cursor, Pipeline, RawCursor

from projections import batches, keyed
from storage.locks import creating_tables, immediate_transaction

Row = dict[str, Any]


@lru_cache(maxsize=16_384)  # an event's ids are written by several views
def text(uuid: UUID) -> str:
    """An id as every view stores it."""
    return str(uuid)


@lru_cache(maxsize=32_768)  # a batch's times (a few an event), written by several views
def iso(moment: datetime | None) -> str | None:
    """A time as fixed-width ISO 8601 text in UTC, the form every view stores."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


def parse_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


NOTHING_DECLARED = keyed.Schema()
SEND_AT = 500
"""Writes waiting when every run of them but the last goes ahead."""


class Transaction:
    """One database transaction of the views, on either engine; its writes go in batches.

    An INSERT, UPDATE or DELETE (one returning no rows) waits in a queue, and goes to the
    database in the order it was written, or in one with the same effect (writes to a
    declared table under different keys, in rounds: projections.keyed): before any other
    statement, a fetch or `rowcount`, and at commit; once SEND_AT wait, every stretch of them
    but the last goes ahead. A run of one statement goes together (projections.batches). On
    PostgreSQL the writes go through a pipeline, which the server works through while the
    views go on, waited for only at a read, a `rowcount` or the commit. A write the database
    refuses is reported by then, and rolls the whole transaction back.
    """

    def __init__(self, cursor: Any, *, postgres: bool, schema: keyed.Schema | None = None) -> None:
        self._cursor = getattr(cursor, "sqlite_cursor", cursor)  # the library wraps sqlite3's
        self._postgres = postgres
        self._numbered = isinstance(cursor, RawCursor)  # placeholders $1, $2 ... (else %s)
        self._schema = schema or NOTHING_DECLARED
        self._writes: list[tuple[str, tuple[Any, ...]]] = []
        self._pipeline: Pipeline | None = None
        self.memo: dict[str, Any] = {}
        """What views read in this transaction and may use again; a view that changes what
        it read forgets it."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        values = tuple([text(p) if isinstance(p, UUID) else p for p in params])
        if self._postgres:
            for value in values:
                if isinstance(value, str) and "\x00" in value:
                    values = tuple(_without_nul(v) for v in values)
                    break
        if batches.waits(sql):
            self._writes.append((sql, values))
            if len(self._writes) >= SEND_AT:
                self._send_ahead()
        else:
            self.flush()
            self._run(sql, [values])

    def flush(self) -> None:
        """Send the writes waiting, as projections.keyed orders them, and see them done."""
        writes, self._writes = self._writes, []
        runs = [run for stretch in keyed.plan(writes, self._schema) for run in stretch.runs()]
        if len(runs) > 1:
            self._enter_pipeline()
        for sql, rows in runs:
            self._send(sql, rows)
        self._leave_pipeline(None)

    def send(self) -> None:
        """Send every write waiting, not waiting for the database: no more writes will join
        them (the view that wrote them is done with the batch)."""
        if self._writes:
            writes, self._writes = self._writes, []
            self._enter_pipeline()
            for stretch in keyed.plan(writes, self._schema):
                for sql, rows in stretch.runs():
                    self._send(sql, rows)

    def _send_ahead(self) -> None:
        """Send every stretch but the last (which may grow), not waiting for the database."""
        stretches = keyed.plan(self._writes, self._schema)
        if len(stretches) > 1:  # else one stretch, long enough to go as it is
            stretches, self._writes = stretches[:-1], stretches[-1].writes
        else:
            self._writes = []
        self._enter_pipeline()
        for stretch in stretches:
            for sql, rows in stretch.runs():
                self._send(sql, rows)

    def _enter_pipeline(self) -> None:
        if self._pipeline is None and self._postgres and Pipeline.is_supported():
            self._pipeline = self._cursor.connection.pipeline()
            self._pipeline.__enter__()

    def _leave_pipeline(self, error: BaseException | None) -> None:
        """Wait for every statement sent; raise the first the database refused."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.__exit__(type(error) if error else None, error, None)

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        """Send what waits, unless the transaction failed; either way, leave the pipeline."""
        if error is None:
            try:
                self.flush()
            except BaseException as refused:
                self._leave_pipeline(refused)
                raise
        self._leave_pipeline(error)

    def _send(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        statements = self._together(sql, rows) if len(rows) > 1 else None
        if statements is None:
            self._run(sql, rows)
        else:
            for statement, runs in statements:
                self._run(statement, runs)

    def _together(
        self, sql: str, rows: list[tuple[Any, ...]]
    ) -> Iterator[tuple[str, list[list[Any]]]] | None:
        """The statements of many rows each that `rows` of `sql` may go as, if any."""
        if (values := batches.many_rows(sql)) is not None:
            return values.statements(rows)
        updates = batches.many_updates(sql) if self._postgres else None
        if updates is not None and keyed.by_key(sql, rows, self._schema):
            return updates.statements(rows)
        return None

    def _run(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._postgres:
            sql = _numbered(sql) if self._numbered else _for_psycopg(sql)
        if len(rows) > 1:
            self._cursor.executemany(sql, rows)
        else:
            self._cursor.execute(sql, rows[0])

    def fetchall(self) -> list[Row]:
        self.flush()
        return [dict(row) for row in self._cursor.fetchall()]

    def fetchone(self) -> Row | None:
        self.flush()
        row = self._cursor.fetchone()
        return None if row is None else dict(row)

    @property
    def rowcount(self) -> int:
        """The rows the last statement changed: it goes alone, after the writes before it."""
        last = self._writes.pop() if self._writes else None
        self.flush()
        if last is not None:
            self._run(last[0], [last[1]])
        count: int = self._cursor.rowcount
        return count


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    return value


@lru_cache(maxsize=512)
def _for_psycopg(sql: str) -> str:
    return sql.replace("?", "%s")


@lru_cache(maxsize=1024)
def _numbered(sql: str) -> str:
    """`sql` with PostgreSQL's own placeholders, $1, $2 ..., for the `?`s outside quotes."""
    parts = sql.split("'")
    count = 0
    for at in range(0, len(parts), 2):  # the even parts lie outside quotes
        pieces = parts[at].split("?")
        numbered = [pieces[0]]
        for piece in pieces[1:]:
            count += 1
            numbered.append(f"${count}{piece}")
        parts[at] = "".join(numbered)
    return "'".join(parts)


class ViewDatabase:
    """Transactions on the database the application stores its events in."""

    def __init__(self, app: Application[Any]) -> None:
        factory = app.factory
        if not isinstance(factory, SQLiteFactory | PostgresFactory):
            raise TypeError(f"read models need SQLite or PostgreSQL, not {type(factory).__name__}")
        self._datastore: SQLiteDatastore | PostgresDatastore = factory.datastore
        self.postgres = isinstance(self._datastore, PostgresDatastore)
        self.schema = NOTHING_DECLARED

    def declare(self, statements: Iterable[str]) -> None:
        """The CREATE statements of the tables the views write: their writes may be
        reordered as projections.keyed allows."""
        self.schema = keyed.Schema(statements)

    @contextmanager
    def transaction(self, *, commit: bool = True, immediate: bool = False) -> Iterator[Transaction]:
        """A transaction; `immediate` on SQLite takes the write lock before its first
        statement, so a write after a read never finds another writer was first."""
        if immediate and isinstance(self._datastore, SQLiteDatastore):
            with (
                immediate_transaction(self._datastore) as cursor,
                Transaction(cursor, postgres=False, schema=self.schema) as tx,
            ):
                yield tx
            return
        with self._datastore.transaction(commit=commit) as any_cursor:
            if isinstance(any_cursor, Cursor):  # psycopg parses no statement (it does, each
                any_cursor = RawCursor(any_cursor.connection)  # time, any of 50+ parameters)
            with Transaction(any_cursor, postgres=self.postgres, schema=self.schema) as tx:
                yield tx

    @contextmanager
    def creating_tables(self) -> Iterator[Transaction]:
        """A transaction that creates tables while no other process does (storage.locks)."""
        if isinstance(self._datastore, PostgresDatastore):
            with creating_tables(self._datastore), self.transaction() as tx:
                yield tx
        else:
            with (
                immediate_transaction(self._datastore) as cursor,
                Transaction(cursor, postgres=False) as tx,
            ):
                yield tx

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """The rows of one statement. On PostgreSQL it runs on its own, in autocommit: one
        round trip, where a transaction around it took three (BEGIN, it, ROLLBACK)."""
        if isinstance(self._datastore, PostgresDatastore):
            with (
                self._datastore.get_connection() as conn,
                Transaction(RawCursor(conn), postgres=True, schema=self.schema) as tx,
            ):
                tx.execute(sql, params)
                return tx.fetchall()
        with self.transaction(commit=False) as tx:
            tx.execute(sql, params)
            return tx.fetchall()
