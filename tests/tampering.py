"""An insider with the database's superuser rights, working around the service.

The store refuses UPDATE, DELETE and TRUNCATE of events, seals and checkpoints by triggers. A
superuser can switch them off: on PostgreSQL `SET session_replication_role = replica` (no
ordinary trigger fires in that session), on SQLite by dropping them. `insider` does so for one
transaction and, on SQLite, puts the triggers back, so the schema looks untouched afterwards.
Every attack in the tests goes through the functions here; `sql` runs a statement as any
other client would, with the triggers in force.

The insider knows the public algorithm of the digests (`digest_as_recorded`) but not the seal
key: a seal he writes is made with a key of his own. The stores attacked are not encrypted.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

import psycopg

from orders import ledger
from orders.application import DEVELOPMENT_SIGNING_KEY
from orders.commitments import committed_state

Run = Callable[..., list[Any]]
"""Runs one statement (with `%s` placeholders on both engines); the rows it returns."""

INSIDER_SEAL_KEY = hashlib.sha256(b"the insider's own key").digest()

SERVICE_SEAL_KEY = ledger.Signer(DEVELOPMENT_SIGNING_KEY).seal_key  # for commitments only


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def sqlite_path(database_url: str) -> Path:
    return Path(urlsplit(database_url).path[1:])


def events_table(database_url: str) -> str:
    return "stored_events" if is_sqlite(database_url) else "orders_events"


def stored_id(database_url: str, order_id: UUID) -> str:
    """An order's id as its events table holds it: hex on SQLite, a uuid on PostgreSQL. (The
    seals table holds `str(order_id)` on both.)"""
    return order_id.hex if is_sqlite(database_url) else str(order_id)


def sql(database_url: str, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run SQL directly on the database, around the service, as any client: triggers apply."""
    if is_sqlite(database_url):
        with sqlite3.connect(sqlite_path(database_url)) as db:
            return db.execute(statement.replace("%s", "?"), params).fetchall()
    with psycopg.connect(database_url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def insider(database_url: str) -> Iterator[Run]:
    """One transaction as a superuser who has switched the triggers off."""
    if is_sqlite(database_url):
        with _sqlite_insider(sqlite_path(database_url)) as run:
            yield run
        return
    with psycopg.connect(database_url) as conn:  # committed at the end, unless it raised
        conn.execute("SET LOCAL session_replication_role = replica")

        def run(statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

        yield run


@contextmanager
def _sqlite_insider(path: Path) -> Iterator[Run]:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        saved = triggers.fetchall()
        for name, _ in saved:
            db.execute(f"DROP TRIGGER {name}")

        def run(statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
            return db.execute(statement.replace("%s", "?"), params).fetchall()

        yield run
        for _, create in saved:
            db.execute(create)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.close()


# --- one event ---------------------------------------------------------------------------


def _where(database_url: str) -> str:
    return f"FROM {events_table(database_url)} WHERE originator_id = %s AND originator_version = %s"


def stored_event(database_url: str, order_id: UUID, version: int) -> tuple[str, bytes]:
    """An event's topic and state as stored."""
    ((topic, state),) = sql(
        database_url,
        f"SELECT topic, state {_where(database_url)}",
        (stored_id(database_url, order_id), version),
    )
    return str(topic), bytes(state)


def write_state(database_url: str, order_id: UUID, version: int, state: bytes) -> None:
    """Overwrite an event's stored state."""
    with insider(database_url) as run:
        run(
            f"UPDATE {events_table(database_url)} SET state = %s "
            "WHERE originator_id = %s AND originator_version = %s",
            (state, stored_id(database_url, order_id), version),
        )


def edit_state(database_url: str, order_id: UUID, version: int, *, old: bytes, new: bytes) -> None:
    """Replace the one occurrence of `old` in an event's stored state by `new`."""
    _, state = stored_event(database_url, order_id, version)
    assert state.count(old) == 1, f"{old!r} occurs {state.count(old)} times in event {version}"
    write_state(database_url, order_id, version, state.replace(old, new))


def swap_states(database_url: str, order_id: UUID, first: int, second: int) -> None:
    """Two events of an order exchange their stored states (their versions stay)."""
    _, one = stored_event(database_url, order_id, first)
    _, other = stored_event(database_url, order_id, second)
    write_state(database_url, order_id, first, other)
    write_state(database_url, order_id, second, one)


def delete_event(database_url: str, order_id: UUID, version: int, *, with_seal: bool) -> None:
    """Remove an event; with its seal, or leaving the seal behind."""
    with insider(database_url) as run:
        run(f"DELETE {_where(database_url)}", (stored_id(database_url, order_id), version))
        if with_seal:
            run(
                "DELETE FROM event_seals WHERE originator_id = %s AND version = %s",
                (str(order_id), version),
            )


def insert_event(
    database_url: str, order_id: UUID, *, copy_of: int, seal: Literal["none", "forged"]
) -> int:
    """Append a copy of one of the order's events after its last, without a seal or with one
    the insider forged over a correctly chained digest; returns the new event's version."""
    versions = _versions(database_url, order_id)
    version = versions[-1] + 1
    topic, state = stored_event(database_url, order_id, copy_of)
    with insider(database_url) as run:
        run(
            f"INSERT INTO {events_table(database_url)} "
            "(originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
            (stored_id(database_url, order_id), version, topic, state),
        )
        if seal == "forged":
            before = _digests(database_url, order_id)[versions[-1]]
            digest = digest_as_recorded(before, order_id, version, topic, state)
            _write_seal(run, order_id, version, digest, insert=True)
    return version


# --- the chain ---------------------------------------------------------------------------


def digest_as_recorded(
    previous: bytes, order_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """A stored event's chained digest, computed exactly as the recorder computes it when it
    writes the seal (`storage.sealing.seals`) from the plaintext state: the one place
    the tests know the digest's input. The insider is granted even the key the commitments
    to sensitive fields are salted with (the tests' services use the development key; it is
    the seal key, which he is not granted for seals): the strongest attacker, so that what
    still fails is shown to fail by the seals alone."""
    form = committed_state(SERVICE_SEAL_KEY, order_id, version, state)
    return ledger.event_digest(previous, order_id, version, topic, form)


def recompute_chain_after_edit(database_url: str, order_id: UUID, *, forge_seals: bool) -> None:
    """Rewrite the order's stored digests to match its stored events, as the insider would
    after editing one: from the first that no longer matches, onwards. The seals he keeps as
    they were, or replaces with his own (he has no seal key)."""
    stored = _digests(database_url, order_id)
    previous = ledger.GENESIS
    with insider(database_url) as run:
        for version in _versions(database_url, order_id):
            topic, state = stored_event(database_url, order_id, version)
            digest = digest_as_recorded(previous, order_id, version, topic, state)
            if digest != stored.get(version):
                run(
                    "UPDATE event_seals SET digest = %s WHERE originator_id = %s AND version = %s",
                    (ledger.b64(digest), str(order_id), version),
                )
                if forge_seals:
                    _write_seal(run, order_id, version, digest, insert=False)
            previous = digest


def _write_seal(run: Run, order_id: UUID, version: int, digest: bytes, *, insert: bool) -> None:
    forged = ledger.b64(ledger.seal(INSIDER_SEAL_KEY, digest))
    if insert:
        run(
            "INSERT INTO event_seals VALUES (%s, %s, %s, %s)",
            (str(order_id), version, ledger.b64(digest), forged),
        )
    else:
        run(
            "UPDATE event_seals SET seal = %s WHERE originator_id = %s AND version = %s",
            (forged, str(order_id), version),
        )


def _versions(database_url: str, order_id: UUID) -> list[int]:
    rows = sql(
        database_url,
        f"SELECT originator_version FROM {events_table(database_url)} "
        "WHERE originator_id = %s ORDER BY originator_version",
        (stored_id(database_url, order_id),),
    )
    return [int(v) for (v,) in rows]


def _digests(database_url: str, order_id: UUID) -> dict[int, bytes]:
    rows = sql(
        database_url,
        "SELECT version, digest FROM event_seals WHERE originator_id = %s",
        (str(order_id),),
    )
    return {int(v): ledger.unb64(d) for v, d in rows}


# --- the whole log -----------------------------------------------------------------------


def truncate(database_url: str, *tables: str) -> None:
    """Empty whole tables (`events` names the events table)."""
    names = [events_table(database_url) if t == "events" else t for t in tables]
    with insider(database_url) as run:
        for name in names:
            run(f"DELETE FROM {name}" if is_sqlite(database_url) else f"TRUNCATE {name}")


@dataclass(frozen=True)
class Copy:
    """An older copy of the store: a file on SQLite; on PostgreSQL, the log's head then."""

    file: Path | None
    head: int | None


def copy_of_store(database_url: str, where: Path) -> Copy:
    """Copy the store as it stands (a consistent file copy on SQLite)."""
    if not is_sqlite(database_url):
        ((head,),) = sql(database_url, "SELECT max(notification_id) FROM orders_events")
        return Copy(None, int(head))
    with (
        sqlite3.connect(sqlite_path(database_url)) as live,
        sqlite3.connect(where) as copy,
    ):
        live.backup(copy)
    return Copy(where, None)


def restore_log(database_url: str, copy: Copy) -> None:
    """Put back the events and seals of an older copy, leaving the checkpoints signed since
    (and the read models) as they are. On PostgreSQL the events and seals written after the
    copy are deleted, which is what restoring them would do."""
    if copy.file is None:
        assert copy.head is not None
        _roll_back_postgres(database_url, copy.head)
        return
    tables = (events_table(database_url), "event_seals")
    with sqlite3.connect(copy.file) as old:
        rows = {table: old.execute(f"SELECT * FROM {table}").fetchall() for table in tables}
    with insider(database_url) as run:
        for table in tables:
            run(f"DELETE FROM {table}")
            for row in rows[table]:
                run(f"INSERT INTO {table} VALUES (%s, %s, %s, %s)", tuple(row))


def _roll_back_postgres(database_url: str, head: int) -> None:
    with insider(database_url) as run:
        run(
            "DELETE FROM event_seals s USING orders_events e "
            "WHERE s.originator_id = e.originator_id::text AND s.version = e.originator_version "
            "AND e.notification_id > %s",
            (head,),
        )
        run("DELETE FROM orders_events WHERE notification_id > %s", (head,))


def delete_timeline_rows(database_url: str, order_id: UUID, *, from_version: int) -> None:
    """Remove what the timeline read model shows of an order's events from `from_version` on
    (read models are not immutable: they can be rebuilt from the log)."""
    with insider(database_url) as run:
        run(
            "DELETE FROM timeline WHERE order_id = %s AND version >= %s",
            (str(order_id), from_version),
        )
