"""The library's event recorders, plus what must be written in the same transaction as events.

- Command keys: a command sent with an Idempotency-Key stores its key, a fingerprint of the
  request and what it produced (order, version, new breach or escalation id) atomically with
  its events, so a retry gets the first result back and two concurrent attempts cannot both
  store (the second one's key row conflicts, and its events roll back with it).
- Seals: every event's chained digest (orders.ledger) and a keyed seal of it. An event written
  around the application has no valid seal; one changed, removed or reordered breaks a chain.
- Immutability: triggers refuse UPDATE and DELETE of events, seals and checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Cipher, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from orders import ledger


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


@dataclass(frozen=True)
class Sealing:
    """What a recorder needs to seal events: the seal key, and the cipher to see plaintext."""

    key: bytes
    cipher: Cipher | None


def _immutable(events_table: str) -> tuple[str, ...]:
    return (events_table, "event_seals", "checkpoints")


TABLES = (
    "CREATE TABLE IF NOT EXISTS command_keys (actor_id TEXT NOT NULL, key TEXT NOT NULL, "
    "fingerprint TEXT NOT NULL, order_id TEXT NOT NULL, version BIGINT NOT NULL, "
    "ref TEXT NOT NULL, PRIMARY KEY (actor_id, key))",
    "CREATE TABLE IF NOT EXISTS event_seals (originator_id TEXT NOT NULL, "
    "version BIGINT NOT NULL, digest TEXT NOT NULL, seal TEXT NOT NULL, "
    "PRIMARY KEY (originator_id, version))",
    "CREATE TABLE IF NOT EXISTS checkpoints (size BIGINT PRIMARY KEY, root TEXT NOT NULL, "
    "signed_at TEXT NOT NULL, signature TEXT NOT NULL)",
)


def sqlite_triggers(events_table: str) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} are immutable: {verb} refused'); END"
        for table in _immutable(events_table)
        for verb in ("update", "delete")
    )


def postgres_triggers(events_table: str) -> tuple[str, ...]:
    return (
        "CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% are immutable: % refused', TG_TABLE_NAME, TG_OP; END $$",
        *(
            f"CREATE OR REPLACE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
            for table in _immutable(events_table)
        ),
    )


INSERT_KEY = "INSERT INTO command_keys VALUES (?, ?, ?, ?, ?, ?)"
SELECT_KEY = "SELECT * FROM command_keys WHERE actor_id = ? AND key = ?"
INSERT_SEAL = "INSERT INTO event_seals VALUES (?, ?, ?, ?)"
SELECT_DIGEST = "SELECT digest FROM event_seals WHERE originator_id = ? AND version = ?"


def _key_row(key: CommandKey) -> tuple[Any, ...]:
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


class _Extras:
    """What both recorders add, written through one `execute(sql, params) -> row` function."""

    sealing: Sealing | None = None

    def _write_extras(self, run: Any, stored_events: Any, kwargs: dict[str, Any]) -> None:
        if self.sealing is not None:
            self._write_seals(run, stored_events, self.sealing)
        if (key := kwargs.get("command_key")) is not None:
            run(INSERT_KEY, _key_row(key), fetch=False)

    @staticmethod
    def _write_seals(run: Any, stored_events: list[StoredEvent], sealing: Sealing) -> None:
        previous: dict[str, bytes] = {}
        for event in stored_events:
            order = str(event.originator_id)
            before = previous.get(order)
            if before is None:
                before = ledger.GENESIS
                if event.originator_version > 1:
                    row = run(SELECT_DIGEST, (order, event.originator_version - 1), fetch=True)
                    before = ledger.unb64(row["digest"]) if row else ledger.GENESIS
            state = sealing.cipher.decrypt(event.state) if sealing.cipher else event.state
            digest = ledger.event_digest(
                before, UUID(order), event.originator_version, event.topic, state
            )
            run(
                INSERT_SEAL,
                (
                    order,
                    event.originator_version,
                    ledger.b64(digest),
                    ledger.b64(ledger.seal(sealing.key, digest)),
                ),
                fetch=False,
            )
            previous[order] = digest


class SealingSQLiteRecorder(_Extras, SQLiteApplicationRecorder):
    """SQLite event recorder that also writes seals and command keys, and forbids changes."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *TABLES,
            *sqlite_triggers(self.events_table_name),
        ]

    def _insert_events(self, c: SQLiteCursor, stored_events: Any, **kwargs: Any) -> Any:
        returning = super()._insert_events(c, stored_events, **kwargs)

        def run(sql: str, params: tuple[Any, ...], *, fetch: bool) -> Any:
            c.execute(sql, params)
            return c.fetchone() if fetch else None

        self._write_extras(run, stored_events, kwargs)
        return returning

    def find_command_key(self, actor_id: str, key: str) -> CommandKey | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(SELECT_KEY, (actor_id, key))
            row = c.fetchone()
        return None if row is None else _key(row)

    def query(
        self, sql: str, params: tuple[Any, ...] = (), *, commit: bool = False
    ) -> list[dict[str, Any]]:
        """Run SQL on the event store ({events}, {position} name its table and log order)."""
        with self.datastore.transaction(commit=commit) as c:
            c.execute(
                sql.replace("{events}", self.events_table_name).replace("{position}", "rowid"),
                params,
            )
            return [dict(row) for row in c.fetchall()]


class SealingPostgresRecorder(_Extras, PostgresApplicationRecorder):
    """PostgreSQL event recorder that also writes seals and command keys, and forbids changes."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        for statement in (*TABLES, *postgres_triggers(self.events_table_name)):
            self.sql_create_statements.append(SQL(statement).format())

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Any, **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)

        def run(sql: str, params: tuple[Any, ...], *, fetch: bool) -> Any:
            curs.execute(sql.replace("?", "%s"), params)
            return curs.fetchone() if fetch else None

        self._write_extras(run, stored_events, kwargs)

    def find_command_key(self, actor_id: str, key: str) -> CommandKey | None:
        rows = self.query(SELECT_KEY, (actor_id, key))
        return _key(rows[0]) if rows else None

    def query(
        self, sql: str, params: tuple[Any, ...] = (), *, commit: bool = False
    ) -> list[dict[str, Any]]:
        """Run SQL on the event store ({events}, {position} name its table and log order)."""
        with self.datastore.transaction(commit=commit) as curs:
            statement = (
                sql.replace("{events}", self.events_table_name)
                .replace("{position}", "notification_id")
                .replace("?", "%s")
            )
            curs.execute(statement, params)
            return [dict(row) for row in curs.fetchall()] if curs.description else []


RECORDERS = {
    "eventsourcing.sqlite": "orders.storage:SealingSQLiteRecorder",
    "eventsourcing.postgres": "orders.storage:SealingPostgresRecorder",
}
