"""Open and closed alerts of every order: the supervisors' work queue.

One row per alert, as its events decided it: where it stands on its ladder, whom it tells
now, by when they must acknowledge it, and how it was closed. Holds no sensitive field (an
acknowledgement's note stays in the order's history).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any

from orders import events
from projections.database import Row, Transaction, ViewDatabase, iso, parse_iso, text
from projections.follower import View


class AlertsView(View):
    """Projects each alert's raising, climbing and closing onto one row."""

    name = "alerts"
    accepts = (
        events.AlertRaised,
        events.AlertClimbed,
        events.AlertAcknowledged,
        events.AlertResolved,
    )
    tables = (
        "CREATE TABLE IF NOT EXISTS alerts ("
        "alert_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, kind TEXT NOT NULL, "
        "subject TEXT NOT NULL, district TEXT NOT NULL, inspector_id TEXT, "
        "due_at TEXT NOT NULL, raised_at TEXT NOT NULL, rung INTEGER NOT NULL, "
        "addressee TEXT NOT NULL, acknowledge_by TEXT NOT NULL, "
        "closed TEXT, closed_at TEXT, closed_by TEXT, version INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS alerts_open ON alerts (closed, district, due_at)",
    )

    @singledispatchmethod
    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        pass

    @apply.register
    def _(self, event: events.AlertRaised, position: int, tx: Transaction) -> None:
        tx.execute(
            "INSERT INTO alerts (alert_id, order_id, kind, subject, district, inspector_id, "
            "due_at, raised_at, rung, addressee, acknowledge_by, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
            (
                text(event.alert_id),
                text(event.originator_id),
                event.kind,
                event.subject,
                event.district,
                event.inspector_id,
                iso(event.due_at),
                iso(event.timestamp),
                event.addressee,
                iso(event.acknowledge_by),
                event.originator_version,
            ),
        )

    @apply.register
    def _(self, event: events.AlertClimbed, position: int, tx: Transaction) -> None:
        tx.execute(
            "UPDATE alerts SET rung = ?, addressee = ?, acknowledge_by = ?, version = ? "
            "WHERE alert_id = ?",
            (
                event.rung,
                event.addressee,
                iso(event.acknowledge_by),
                event.originator_version,
                text(event.alert_id),
            ),
        )

    @apply.register
    def _(self, event: events.AlertAcknowledged, position: int, tx: Transaction) -> None:
        self._close(event, "acknowledged", tx)

    @apply.register
    def _(self, event: events.AlertResolved, position: int, tx: Transaction) -> None:
        self._close(event, "resolved", tx)

    @staticmethod
    def _close(event: Any, how: str, tx: Transaction) -> None:
        tx.execute(
            "UPDATE alerts SET closed = ?, closed_at = ?, closed_by = ?, version = ? "
            "WHERE alert_id = ?",
            (
                how,
                iso(event.timestamp),
                event.actor.id,
                event.originator_version,
                text(event.alert_id),
            ),
        )


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a queue shows: open ones, narrowed to a scope; None means any."""

    kind: str | None = None
    within_districts: tuple[str, ...] | None = None
    inspector_id: str | None = None
    limit: int = 100
    offset: int = 0


class Alerts:
    """Queries over the alerts view."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def open(self, where: AlertFilter) -> list[Row]:
        """Open alerts, the one that fell due longest ago first, one page of them."""
        sql, params = self._where(where)
        rows = self.db.query(
            "SELECT * FROM alerts" + sql + " ORDER BY due_at, alert_id LIMIT ? OFFSET ?",
            (*params, where.limit, where.offset),
        )
        return [_typed(row) for row in rows]

    def count_open(self, where: AlertFilter) -> int:
        sql, params = self._where(where)
        return int(self.db.query("SELECT COUNT(*) AS n FROM alerts" + sql, params)[0]["n"])

    def of_order(self, order_id: str) -> list[Row]:
        rows = self.db.query(
            "SELECT * FROM alerts WHERE order_id = ? ORDER BY raised_at, alert_id", (order_id,)
        )
        return [_typed(row) for row in rows]

    @staticmethod
    def _where(where: AlertFilter) -> tuple[str, list[object]]:
        clauses, params = ["closed IS NULL"], list[object]()
        if where.kind is not None:
            clauses.append("kind = ?")
            params.append(where.kind)
        if where.within_districts is not None:
            marks = ", ".join("?" for _ in where.within_districts) or "NULL"
            clauses.append(f"district IN ({marks})")
            params.extend(where.within_districts)
        if where.inspector_id is not None:
            clauses.append("inspector_id = ?")
            params.append(where.inspector_id)
        return " WHERE " + " AND ".join(clauses), params


def _typed(row: Row) -> Row:
    for column in ("due_at", "raised_at", "acknowledge_by", "closed_at"):
        row[column] = parse_iso(row[column])
    return row


def waited(row: Row, now: datetime) -> float:
    """How long, in hours, the alert has waited since its duty fell due."""
    due: datetime = row["due_at"]
    return max(0.0, (now - due).total_seconds() / 3600)
