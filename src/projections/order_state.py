"""Current state of every order, one row each, for lists and filters.

Holds no sensitive field: no names, addresses, positions or narratives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, singledispatchmethod
from typing import Any
from uuid import UUID

from orders import events
from projections.database import Row, Transaction, ViewDatabase, iso, parse_iso, text
from projections.follower import View


class OrderStateView(View):
    """Projects each order's events onto one row of current state."""

    name = "order_state"
    accepts = (events.Event, events.Requested)
    tables = (
        "CREATE TABLE IF NOT EXISTS order_state ("
        "order_id TEXT PRIMARY KEY, status TEXT NOT NULL, district TEXT NOT NULL, "
        "channel TEXT NOT NULL, risk_level TEXT, needs_reassessment INTEGER NOT NULL DEFAULT 0, "
        "inspector_id TEXT, kind TEXT, requested_at TEXT NOT NULL, issued_at TEXT, "
        "valid_from TEXT, valid_until TEXT, served INTEGER NOT NULL DEFAULT 0, "
        "check_in_due TEXT, check_in_deadline TEXT, "
        "missed_check_ins INTEGER NOT NULL DEFAULT 0, "
        "missed_since_visit INTEGER NOT NULL DEFAULT 0, last_visit_recorded_at TEXT, "
        "late_reports INTEGER NOT NULL DEFAULT 0, last_missed_window INTEGER, "
        "last_met_window INTEGER, "
        "open_breaches INTEGER NOT NULL DEFAULT 0, open_escalations INTEGER NOT NULL DEFAULT 0, "
        "version INTEGER NOT NULL, updated_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS order_state_responded_breaches ("
        "order_id TEXT NOT NULL, breach_id TEXT NOT NULL, PRIMARY KEY (order_id, breach_id))",
        "CREATE INDEX IF NOT EXISTS order_state_district ON order_state (district, status)",
        "CREATE INDEX IF NOT EXISTS order_state_inspector ON order_state (inspector_id, status)",
    )

    def _set(self, tx: Transaction, event: Any, *changes: Change, **columns: Any) -> None:
        """One UPDATE of the order's row: each change as written, each column to its value."""
        columns |= {"version": event.originator_version, "updated_at": iso(event.timestamp)}
        tx.execute(
            _update(tuple(sql for sql, _ in changes), tuple(columns)),
            (*(p for _, params in changes for p in params), *columns.values(), event.originator_id),
        )

    def _set_due(self, tx: Transaction, event: Any, *changes: Change, **columns: Any) -> None:
        """Copy the pending check-in's due time and deadline that the event decided."""
        due, deadline = iso(event.check_in_due), iso(event.check_in_deadline)
        self._set(tx, event, *changes, check_in_due=due, check_in_deadline=deadline, **columns)

    @singledispatchmethod
    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        self._set(tx, event)

    @apply.register
    def _(self, event: events.Requested, position: int, tx: Transaction) -> None:
        request = event.request
        tx.execute(
            "INSERT INTO order_state (order_id, status, district, channel, requested_at, "
            "version, updated_at) VALUES (?, 'requested', ?, ?, ?, ?, ?)",
            (
                text(event.originator_id),
                request.district,
                request.channel,
                iso(event.timestamp),
                event.originator_version,
                iso(event.timestamp),
            ),
        )

    @apply.register
    def _(self, event: events.RiskAssessed, position: int, tx: Transaction) -> None:
        self._set_due(tx, event, risk_level=event.final_level, needs_reassessment=0)

    @apply.register
    def _(self, event: events.Issued, position: int, tx: Transaction) -> None:
        terms = event.terms
        self._set_due(
            tx,
            event,
            status="issued",
            inspector_id=terms.inspector_id,
            kind=terms.kind,
            issued_at=iso(event.timestamp),
            valid_from=iso(terms.valid_from),
            valid_until=iso(terms.valid_until),
        )

    @apply.register
    def _(self, event: events.Served, position: int, tx: Transaction) -> None:
        self._set(tx, event, served=1)

    @apply.register
    def _(self, event: events.InspectionVisitRecorded, position: int, tx: Transaction) -> None:
        met = () if event.window is None else (_raised_to("last_met_window", event.window),)
        late = (_plus("late_reports", 1),) if event.late else ()
        self._set_due(
            tx,
            event,
            *met,
            *late,
            missed_since_visit=0,
            last_visit_recorded_at=iso(event.timestamp),
        )

    @apply.register
    def _(self, event: events.CheckInMissed, position: int, tx: Transaction) -> None:
        self._set_due(
            tx,
            event,
            _plus("missed_check_ins", 1),
            _plus("missed_since_visit", 1),
            _raised_to("last_missed_window", event.window),
        )

    @apply.register
    def _(self, event: events.BreachReported, position: int, tx: Transaction) -> None:
        self._set(tx, event, _plus("open_breaches", 1), needs_reassessment=1)

    @apply.register
    def _(self, event: events.BreachResponded, position: int, tx: Transaction) -> None:
        # The first response closes the breach; later ones only add to its record.
        first = (
            "open_breaches = open_breaches - CASE WHEN EXISTS (SELECT 1 FROM "
            "order_state_responded_breaches WHERE order_id = ? AND breach_id = ?) THEN 0 ELSE 1 END"
        )
        self._set(tx, event, (first, (event.originator_id, event.breach_id)))
        tx.execute(
            "INSERT INTO order_state_responded_breaches (order_id, breach_id) "
            "VALUES (?, ?) ON CONFLICT DO NOTHING",
            (event.originator_id, event.breach_id),
        )

    @apply.register
    def _(self, event: events.Escalated, position: int, tx: Transaction) -> None:
        self._set(tx, event, _plus("open_escalations", 1))

    @apply.register
    def _(self, event: events.EscalationAcknowledged, position: int, tx: Transaction) -> None:
        self._set(tx, event, _plus("open_escalations", -1))

    @apply.register
    def _(self, event: events.Extended, position: int, tx: Transaction) -> None:
        self._set_due(tx, event, valid_until=iso(event.valid_until))

    @apply.register
    def _(self, event: events.Revoked, position: int, tx: Transaction) -> None:
        self._set_due(tx, event, status="revoked")

    @apply.register
    def _(self, event: events.Expired, position: int, tx: Transaction) -> None:
        self._set(tx, event, status="expired")


@lru_cache(maxsize=256)
def _update(changes: tuple[str, ...], columns: tuple[str, ...]) -> str:
    assignments = [*changes, *(f"{name} = ?" for name in columns)]
    return f"UPDATE order_state SET {', '.join(assignments)} WHERE order_id = ?"


Change = tuple[str, tuple[Any, ...]]
"""An assignment of an UPDATE worked out from the row's own value, and its parameters."""


def _plus(column: str, by: int) -> Change:
    return f"{column} = {column} + ?", (by,)


def _raised_to(column: str, window: int) -> Change:
    """`column` set to `window` unless it already holds a later one."""
    return f"{column} = CASE WHEN {column} IS NULL OR {column} < ? THEN ? ELSE {column} END", (
        window,
        window,
    )


@dataclass(frozen=True)
class OrderFilter:
    """What a list of orders is narrowed to; None means any."""

    status: str | None = None
    district: str | None = None
    risk_level: str | None = None
    inspector_id: str | None = None
    overdue: bool | None = None
    within_districts: tuple[str, ...] | None = None
    assigned_to_or_unassigned: str | None = None
    limit: int = 100
    offset: int = 0


class OrderStates:
    """Queries over the current-state view."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def get(self, order_id: UUID) -> Row | None:
        rows = self.db.query("SELECT * FROM order_state WHERE order_id = ?", (str(order_id),))
        return _typed(rows[0]) if rows else None

    def page(self, where: OrderFilter, *, now: datetime) -> tuple[list[Row], int]:
        """One page of the orders matching `where`, oldest request first, and how many match
        on all pages together: in one query, unless the page is past the end."""
        sql, params = self._where(where, now)
        rows = self.db.query(
            "SELECT *, COUNT(*) OVER () AS matching FROM order_state"
            + sql
            + " ORDER BY requested_at, order_id LIMIT ? OFFSET ?",
            (*params, where.limit, where.offset),
        )
        if not rows:
            return [], self.count(where, now=now)
        total = int(rows[0]["matching"])
        for row in rows:
            del row["matching"]
        return [_typed(row) for row in rows], total

    def count(self, where: OrderFilter, *, now: datetime) -> int:
        """How many orders match `where`, all pages together."""
        sql, params = self._where(where, now)
        return int(self.db.query("SELECT COUNT(*) AS n FROM order_state" + sql, params)[0]["n"])

    @staticmethod
    def _where(where: OrderFilter, now: datetime) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        for column in ("status", "district", "risk_level", "inspector_id"):
            value = getattr(where, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if where.within_districts is not None:
            marks = ", ".join("?" for _ in where.within_districts) or "NULL"
            clauses.append(f"district IN ({marks})")
            params.extend(where.within_districts)
        if where.assigned_to_or_unassigned is not None:
            clauses.append("(inspector_id = ? OR inspector_id IS NULL)")
            params.append(where.assigned_to_or_unassigned)
        overdue = (  # a missed window no report has met a later one since, or a deadline past
            "(COALESCE(last_missed_window, 0) > COALESCE(last_met_window, 0) "
            "OR (check_in_deadline IS NOT NULL AND check_in_deadline < ?))"
        )
        if where.overdue is not None:
            clauses.append(overdue if where.overdue else f"NOT {overdue}")
            params.append(iso(now))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _typed(row: Row) -> Row:
    for column in (
        "requested_at",
        "issued_at",
        "valid_from",
        "valid_until",
        "check_in_due",
        "check_in_deadline",
        "last_visit_recorded_at",
        "updated_at",
    ):
        row[column] = parse_iso(row[column])
    for column in ("served", "needs_reassessment"):
        row[column] = bool(row[column])
    return row
