"""The outbox: every message the events call for, and how its delivery stands.

Rows are written by the notifications projection, once per idempotency key (INSERT ... ON
CONFLICT DO NOTHING), and their delivery state by the delivery worker. A rebuild of the read
models keeps this table: a message delivered stays delivered, and is never sent again.

A row holds what the message says (`payload`: ids, kinds, rungs, deadlines, districts, an
order's state and dates) and whom it is for (`recipient`: a staff id or a protected person's
contact id), never an address: the worker looks that up when it sends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import uuid4

from projections.database import Row, Transaction, ViewDatabase, iso, parse_iso

TABLES = (
    "CREATE TABLE IF NOT EXISTS outbox ("
    "key TEXT PRIMARY KEY, position BIGINT NOT NULL, order_id TEXT NOT NULL, "
    "topic TEXT NOT NULL, kind TEXT, recipient TEXT NOT NULL, channel TEXT, "
    "payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
    "next_attempt_at TEXT, claim TEXT, claimed_until TEXT, last_error TEXT, "
    "created_at TEXT NOT NULL, settled_at TEXT)",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS outbox_position ON outbox (position)",
)


class DeliveryStatus(StrEnum):
    """Where a message stands: waiting (or retrying), or settled one way or another."""

    PENDING = "pending"
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"  # nobody to tell, no address, or refused for good
    WITHDRAWN = "withdrawn"  # the person withdrew her consent before it went out
    STALE = "stale"  # news older than the outbox when it first saw it: never sent


class DeliveryChannel(StrEnum):
    """How a message leaves: by e-mail, or through the signed webhook (SMS, dispatch)."""

    EMAIL = "email"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class Message:
    """One message for one recipient on one channel, as the notifications projection made it."""

    key: str
    position: int
    order_id: str
    topic: str
    kind: str | None
    recipient: str
    channel: DeliveryChannel | None
    payload: dict[str, Any]
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    reason: str | None = None  # why it is settled from the start (undeliverable, stale)


def record(tx: Transaction, message: Message) -> None:
    """Add a message unless its key is already there (a rebuild, a replayed batch)."""
    columns = _columns(message)
    tx.execute(
        f"INSERT INTO outbox ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))}) "
        "ON CONFLICT (key) DO NOTHING",
        tuple(columns.values()),
    )


def record_each(tx: Transaction, message: Message, recipients: str, params: Sequence[Any]) -> None:
    """Add `message` once for each row of `recipients`, a SELECT of a `recipient` and a
    `channel` (its key ends with both, as `record`'s), unless its key is already there."""
    columns = _columns(message)
    each = {
        "key": "CAST(? AS TEXT) || ':' || r.recipient || COALESCE(':' || r.channel, '')",
        "recipient": "r.recipient",
        "channel": "r.channel",
    }
    tx.execute(
        f"INSERT INTO outbox ({', '.join(columns)}) "
        f"SELECT {', '.join(each.get(name, '?') for name in columns)} FROM ({recipients}) r "
        "WHERE true ON CONFLICT (key) DO NOTHING",  # WHERE: else SQLite takes ON for a join's
        (*(v for name, v in columns.items() if name not in ("recipient", "channel")), *params),
    )


def _columns(message: Message) -> dict[str, Any]:
    settled = message.status is not DeliveryStatus.PENDING
    return {
        "key": message.key,
        "position": message.position,
        "order_id": message.order_id,
        "topic": message.topic,
        "kind": message.kind,
        "recipient": message.recipient,
        "channel": None if message.channel is None else message.channel.value,
        "payload": json.dumps(message.payload, sort_keys=True),
        "status": message.status.value,
        "next_attempt_at": None if settled else iso(message.created_at),
        "last_error": message.reason,
        "created_at": iso(message.created_at),
        "settled_at": iso(message.created_at) if settled else None,
    }


@dataclass(frozen=True)
class Backlog:
    """How deliveries stand: what waits, what keeps failing, what could not be delivered."""

    pending: int
    failing: int  # pending after at least one failed attempt
    undeliverable: int
    withdrawn: int
    stale: int
    oldest_pending_at: datetime | None


class Outbox:
    """The delivery worker's and the admins' queries over the outbox."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def claim(self, now: datetime, *, lease: timedelta, limit: int) -> list[Row]:
        """Take up to `limit` messages due by `now` for `lease`, oldest first; a message
        another worker holds (and whose lease has not run out) is left to it."""
        token = uuid4().hex
        due = (
            "SELECT key FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
            "AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY position, key LIMIT ?"
        )
        if self.db.postgres:
            due += " FOR UPDATE SKIP LOCKED"  # two workers never wait for each other's rows
        with self.db.transaction() as tx:
            tx.execute(
                f"UPDATE outbox SET claim = ?, claimed_until = ? WHERE key IN ({due}) RETURNING *",
                (token, iso(now + lease), iso(now), iso(now), limit),
            )
            rows = tx.fetchall()
        rows.sort(key=lambda row: (row["position"], row["key"]))
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    def settle(
        self,
        row: Row,
        *,
        status: DeliveryStatus,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> bool:
        """Record one attempt on a claimed message: settled as `status`, or (pending) to be
        tried again at `retry_at`. Returns False if the claim had run out and another worker
        took the message over (it will try again: at least once, maybe twice)."""
        pending = status is DeliveryStatus.PENDING
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, settled_at = ?, claim = NULL, claimed_until = NULL "
                "WHERE key = ? AND claim = ?",
                (
                    status.value,
                    error,
                    iso(retry_at) if pending else None,
                    None if pending else iso(now),
                    row["key"],
                    row["claim"],
                ),
            )
            return tx.rowcount == 1

    def get(self, key: str) -> Row | None:
        rows = self.db.query("SELECT * FROM outbox WHERE key = ?", (key,))
        return _typed(rows[0]) if rows else None

    def page(
        self, *, status: DeliveryStatus | None, limit: int, offset: int
    ) -> tuple[list[Row], int]:
        """One page of messages, newest first, and how many there are in all."""
        where, params = ("WHERE status = ?", [status.value]) if status is not None else ("", [])
        total = self.db.query(f"SELECT COUNT(*) AS n FROM outbox {where}", params)[0]["n"]
        rows = self.db.query(
            f"SELECT * FROM outbox {where} ORDER BY position DESC, key LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_typed(row) for row in rows], int(total)

    def backlog(self) -> Backlog:
        rows = self.db.query(
            "SELECT status, COUNT(*) AS n, SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS tried, "
            "MIN(created_at) AS oldest FROM outbox GROUP BY status"
        )
        by = {row["status"]: row for row in rows}

        def count(status: DeliveryStatus) -> int:
            return int(by[status]["n"]) if status in by else 0

        pending = by.get(DeliveryStatus.PENDING)
        return Backlog(
            pending=count(DeliveryStatus.PENDING),
            failing=int(pending["tried"] or 0) if pending else 0,
            undeliverable=count(DeliveryStatus.UNDELIVERABLE),
            withdrawn=count(DeliveryStatus.WITHDRAWN),
            stale=count(DeliveryStatus.STALE),
            oldest_pending_at=parse_iso(pending["oldest"]) if pending else None,
        )


def _typed(row: Row) -> Row:
    for column in ("next_attempt_at", "claimed_until", "created_at", "settled_at"):
        row[column] = parse_iso(row[column])
    return row
