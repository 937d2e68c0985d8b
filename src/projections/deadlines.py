"""The next deadlines of every order: its pending check-in, its next duty, its expiry.

The scheduler reads this view to find work; the order itself decides what is due, so a
stale row can only cause a look that finds nothing to do, never a wrong alert.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from orders import events
from projections.database import Transaction, ViewDatabase, iso
from projections.follower import View


class DeadlinesView(View):
    """Projects each order in force onto its check-in deadline and its expiry, as the order's
    events decided them."""

    name = "deadlines"
    accepts = (events.SetsDeadlines, events.Requested)
    tables = (
        "CREATE TABLE IF NOT EXISTS deadlines ("
        "order_id TEXT PRIMARY KEY, check_in_deadline TEXT, expires_at TEXT, duty_due TEXT)",
        "CREATE INDEX IF NOT EXISTS deadlines_check_in ON deadlines (check_in_deadline)",
        "CREATE INDEX IF NOT EXISTS deadlines_expiry ON deadlines (expires_at)",
        "CREATE INDEX IF NOT EXISTS deadlines_duty ON deadlines (duty_due)",
    )

    @singledispatchmethod
    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        pass  # events that move no deadline

    @apply.register
    def _(self, event: events.SetsDeadlines, position: int, tx: Transaction) -> None:
        self._set_deadlines(event, tx)

    @staticmethod
    def _set_deadlines(
        event: events.SetsDeadlines, tx: Transaction, extra: str = "", *values: object
    ) -> None:
        tx.execute(
            f"UPDATE deadlines SET check_in_deadline = ?, duty_due = ?{extra} WHERE order_id = ?",
            (
                iso(event.check_in_deadline),
                iso(event.duty_due),
                *values,
                str(event.originator_id),
            ),
        )

    @apply.register
    def _(self, event: events.Requested, position: int, tx: Transaction) -> None:
        # From its request: an order not yet issued can have duties (an escalation's alert).
        tx.execute("INSERT INTO deadlines (order_id) VALUES (?)", (str(event.originator_id),))

    @apply.register
    def _(self, event: events.Issued, position: int, tx: Transaction) -> None:
        self._set_deadlines(event, tx, ", expires_at = ?", iso(event.terms.valid_until))

    @apply.register
    def _(self, event: events.Extended, position: int, tx: Transaction) -> None:
        self._set_deadlines(event, tx, ", expires_at = ?", iso(event.valid_until))

    @apply.register
    def _(self, event: events.Revoked, position: int, tx: Transaction) -> None:
        self._set_deadlines(event, tx, ", expires_at = NULL")

    @apply.register
    def _(self, event: events.Expired, position: int, tx: Transaction) -> None:
        self._set_deadlines(event, tx, ", expires_at = NULL")


class Deadlines:
    """Queries the scheduler asks: which orders have a deadline that has passed."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def check_ins_overdue(self, now: datetime, limit: int = 1000) -> list[UUID]:
        rows = self.db.query(
            "SELECT order_id FROM deadlines WHERE check_in_deadline < ? "
            "ORDER BY check_in_deadline LIMIT ?",
            (iso(now), limit),
        )
        return [UUID(row["order_id"]) for row in rows]

    def duties_due(self, now: datetime, limit: int = 1000) -> list[UUID]:
        """Orders with a duty lapsed or an alert due to climb by `now`."""
        rows = self.db.query(
            "SELECT order_id FROM deadlines WHERE duty_due <= ? ORDER BY duty_due LIMIT ?",
            (iso(now), limit),
        )
        return [UUID(row["order_id"]) for row in rows]

    def expiries_due(self, now: datetime, limit: int = 1000) -> list[UUID]:
        rows = self.db.query(
            "SELECT order_id FROM deadlines WHERE expires_at <= ? ORDER BY expires_at LIMIT ?",
            (iso(now), limit),
        )
        return [UUID(row["order_id"]) for row in rows]
