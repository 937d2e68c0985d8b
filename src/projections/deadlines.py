"""The next deadlines of every order: its pending check-in, its next duty, its expiry.

The scheduler reads this view to find work; the order itself decides what is due, so a
stale row can only cause a look that finds nothing to do, never a wrong alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from orders import events
from projections.database import Transaction, ViewDatabase, iso, text
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
                text(event.originator_id),
            ),
        )

    @apply.register
    def _(self, event: events.Requested, position: int, tx: Transaction) -> None:
        # From its request: an order not yet issued can have duties (an escalation's alert).
        tx.execute("INSERT INTO deadlines (order_id) VALUES (?)", (text(event.originator_id),))

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


@dataclass(frozen=True)
class Due:
    """An order with a deadline that has passed, and that deadline as the view keeps it (a
    page of them ends at one: the next page starts after it)."""

    order_id: UUID
    at: str


class Deadlines:
    """Queries the scheduler asks: which orders have a deadline that has passed."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def anything_due(self, now: datetime) -> bool:
        """Whether any order has a deadline that has passed by `now`: one read of three
        indexes, however many orders the view holds."""
        moment = iso(now)
        rows = self.db.query(
            "SELECT 1 AS due WHERE "
            "EXISTS (SELECT 1 FROM deadlines WHERE check_in_deadline < ?) "
            "OR EXISTS (SELECT 1 FROM deadlines WHERE expires_at <= ?) "
            "OR EXISTS (SELECT 1 FROM deadlines WHERE duty_due <= ?)",
            (moment, moment, moment),
        )
        return bool(rows)

    def check_ins_overdue(
        self, now: datetime, limit: int = 1000, after: Due | None = None
    ) -> list[Due]:
        """Orders whose check-in deadline passed before `now`, the longest overdue first."""
        return self._due("check_in_deadline", "<", now, limit, after)

    def duties_due(self, now: datetime, limit: int = 1000, after: Due | None = None) -> list[Due]:
        """Orders with a duty lapsed or an alert due to climb by `now`."""
        return self._due("duty_due", "<=", now, limit, after)

    def expiries_due(self, now: datetime, limit: int = 1000, after: Due | None = None) -> list[Due]:
        """Orders whose validity ran out by `now`."""
        return self._due("expires_at", "<=", now, limit, after)

    def _due(
        self, column: str, passed: str, now: datetime, limit: int, after: Due | None
    ) -> list[Due]:
        """A page of orders whose `column` has passed by `now`, ordered by it, then by id.

        `after` is the last of the previous page: the next goes on from there, however the
        rows change meanwhile (a row moved earlier, behind it, waits for the next sweep).
        """
        where, params = f"{column} {passed} ?", [iso(now)]
        if after is not None:
            where += f" AND {column} >= ? AND ({column} > ? OR order_id > ?)"
            params += [after.at, after.at, str(after.order_id)]
        rows = self.db.query(
            f"SELECT order_id, {column} AS due FROM deadlines WHERE {where} "
            f"ORDER BY {column}, order_id LIMIT ?",
            (*params, limit),
        )
        return [Due(UUID(row["order_id"]), row["due"]) for row in rows]
