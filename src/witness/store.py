"""The witness's own store: a directory with its key (witness.key, mode 0600) and a SQLite file
of the service keys it trusts, the checkpoints it countersigned and those it refused.

Every table is append-only: triggers refuse UPDATE and DELETE, so the history a witness
testifies from is never rewritten by its own code either.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orders import ledger
from orders.cosignatures import Cosignature
from witness import keys

DB_FILE = "witness.sqlite"
TABLES = (
    "CREATE TABLE IF NOT EXISTS trusted_keys (public_key TEXT PRIMARY KEY, added_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cosigned (size INTEGER PRIMARY KEY, root TEXT NOT NULL, "
    "signed_at TEXT NOT NULL, checkpoint TEXT NOT NULL, cosigned_at TEXT NOT NULL, "
    "witness_key TEXT NOT NULL, cosignature TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS refusals (refused_at TEXT NOT NULL, reason TEXT NOT NULL, "
    "checkpoint TEXT)",
)
TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} are kept for good: {verb} refused'); END"
    for table in ("trusted_keys", "cosigned", "refusals")
    for verb in ("update", "delete")
)


class NotInitialised(Exception):
    """The directory holds no witness store; the message says how to make one."""


@dataclass(frozen=True)
class Countersigned:
    """A checkpoint as the service signed it, and this witness's countersignature of it."""

    checkpoint: ledger.Checkpoint
    cosignature: Cosignature

    def as_json(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint.as_json(), "cosignature": self.cosignature.as_json()}


@dataclass(frozen=True)
class Refusal:
    """A checkpoint refused, when, why; the checkpoint itself if the service's key signed it."""

    refused_at: str
    reason: str
    checkpoint: ledger.Checkpoint | None


class WitnessStore:
    """One witness's key and history, in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        if not (directory / DB_FILE).is_file() or not (directory / keys.KEY_FILE).is_file():
            raise NotInitialised(
                f"{directory} holds no witness store: make one with "
                "`protection-orders witness init --store DIR --service-key FILE`"
            )
        self.private_key = keys.load_private_key(directory)
        self.public_key = keys.public_key_of(self.private_key)

    @classmethod
    def initialise(cls, directory: Path) -> WitnessStore:
        """A new store in `directory` (made if missing, mode 0700) with a new key."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if (directory / keys.KEY_FILE).exists():
            raise FileExistsError(f"{directory / keys.KEY_FILE} exists")
        keys.create_private_key(directory)
        with closing(_connect(directory)) as db:
            for statement in (*TABLES, *TRIGGERS):
                db.execute(statement)
        return cls(directory)

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE): two witness processes on
        one store judge one checkpoint after the other, each seeing the other's result."""
        with closing(_connect(self.directory)) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with closing(_connect(self.directory)) as db:
            return db.execute(sql, params).fetchall()

    def trust(self, service_key: bytes, *, at: str) -> bool:
        """Trust checkpoints signed with `service_key` from now on; False if it was already."""
        with self.writing() as db:
            added = db.execute(
                "INSERT OR IGNORE INTO trusted_keys VALUES (?, ?)", (ledger.b64(service_key), at)
            )
            return added.rowcount == 1

    def trusted_keys(self) -> list[bytes]:
        return [ledger.unb64(r["public_key"]) for r in self._rows("SELECT * FROM trusted_keys")]

    def latest(self, db: sqlite3.Connection | None = None) -> Countersigned | None:
        """The checkpoint over the most events countersigned so far; None before the first."""
        sql = "SELECT * FROM cosigned ORDER BY size DESC LIMIT 1"
        rows = db.execute(sql).fetchall() if db is not None else self._rows(sql)
        return _countersigned(rows[0]) if rows else None

    def history(self) -> list[Countersigned]:
        """Every checkpoint countersigned, the smallest first."""
        return [_countersigned(r) for r in self._rows("SELECT * FROM cosigned ORDER BY size")]

    def refusals(self) -> list[Refusal]:
        """Every refusal kept, the oldest first."""
        return [
            Refusal(
                r["refused_at"],
                r["reason"],
                ledger.Checkpoint.from_json(json.loads(r["checkpoint"]))
                if r["checkpoint"]
                else None,
            )
            for r in self._rows("SELECT * FROM refusals ORDER BY refused_at, rowid")
        ]


def keep_countersigned(db: sqlite3.Connection, countersigned: Countersigned) -> None:
    checkpoint, cosignature = countersigned.checkpoint, countersigned.cosignature
    data = checkpoint.as_json()
    db.execute(
        "INSERT INTO cosigned VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            checkpoint.size,
            ledger.b64(checkpoint.root),
            checkpoint.signed_at,
            json.dumps(data, sort_keys=True),
            cosignature.cosigned_at,
            ledger.b64(cosignature.witness_key),
            ledger.b64(cosignature.signature),
        ),
    )


def keep_refusal(
    db: sqlite3.Connection, refused_at: str, reason: str, checkpoint: ledger.Checkpoint | None
) -> None:
    kept = json.dumps(checkpoint.as_json(), sort_keys=True) if checkpoint is not None else None
    db.execute("INSERT INTO refusals VALUES (?, ?, ?)", (refused_at, reason, kept))


def _countersigned(row: sqlite3.Row) -> Countersigned:
    return Countersigned(
        ledger.Checkpoint.from_json(json.loads(row["checkpoint"])),
        Cosignature(
            ledger.unb64(row["witness_key"]), row["cosigned_at"], ledger.unb64(row["cosignature"])
        ),
    )


def _connect(directory: Path) -> sqlite3.Connection:
    db = sqlite3.connect(directory / DB_FILE, timeout=10, isolation_level=None)
    db.row_factory = sqlite3.Row
    return db
