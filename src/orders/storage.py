"""The library's event recorders, plus one table of command keys written in the same transaction.

A command sent with an Idempotency-Key stores its key, a fingerprint of the request, and what
it produced (the order, its version, any new breach or escalation id) atomically with its
events. A retry finds the key and gets the first result back; two concurrent attempts cannot
both store, because the second one's key row conflicts and its events roll back with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL


@dataclass(frozen=True)
class CommandKey:
    """A caller's key for one command, the request's fingerprint, and what the command made."""

    actor_id: str
    key: str
    fingerprint: str
    order_id: UUID | None = None
    version: int = 0
    ref: str = ""

    def with_result(self, order_id: UUID, version: int, ref: str) -> CommandKey:
        return replace(self, order_id=order_id, version=version, ref=ref)


CREATE = (
    "CREATE TABLE IF NOT EXISTS command_keys (actor_id TEXT NOT NULL, key TEXT NOT NULL, "
    "fingerprint TEXT NOT NULL, order_id TEXT NOT NULL, version BIGINT NOT NULL, "
    "ref TEXT NOT NULL, PRIMARY KEY (actor_id, key))"
)
INSERT = "INSERT INTO command_keys VALUES (?, ?, ?, ?, ?, ?)"
SELECT = "SELECT * FROM command_keys WHERE actor_id = ? AND key = ?"


def _row(key: CommandKey) -> tuple[Any, ...]:
    return (key.actor_id, key.key, key.fingerprint, str(key.order_id), key.version, key.ref)


def _key(row: Any) -> CommandKey:
    return CommandKey(
        row["actor_id"],
        row["key"],
        row["fingerprint"],
        UUID(row["order_id"]),
        int(row["version"]),
        row["ref"],
    )


class CommandKeySQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite event recorder that also records command keys."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), CREATE]

    def _insert_events(self, c: SQLiteCursor, stored_events: Any, **kwargs: Any) -> Any:
        returning = super()._insert_events(c, stored_events, **kwargs)
        if (key := kwargs.get("command_key")) is not None:
            c.execute(INSERT, _row(key))
        return returning

    def find_command_key(self, actor_id: str, key: str) -> CommandKey | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(SELECT, (actor_id, key))
            row = c.fetchone()
        return None if row is None else _key(row)


class CommandKeyPostgresRecorder(PostgresApplicationRecorder):
    """PostgreSQL event recorder that also records command keys."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(SQL(CREATE))  # type: ignore[arg-type]

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Any, **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        if (key := kwargs.get("command_key")) is not None:
            curs.execute(INSERT.replace("?", "%s"), _row(key))

    def find_command_key(self, actor_id: str, key: str) -> CommandKey | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SELECT.replace("?", "%s"), (actor_id, key))
            row = curs.fetchone()
        return None if row is None else _key(row)


RECORDERS = {
    "eventsourcing.sqlite": "orders.storage:CommandKeySQLiteRecorder",
    "eventsourcing.postgres": "orders.storage:CommandKeyPostgresRecorder",
}
