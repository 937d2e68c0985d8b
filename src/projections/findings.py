"""The detectors' findings across orders: the supervisors' queue of suspicious reports.

One row per finding, with its order's district and assigned inspector, its rule, strength and
evidence (written to be shown: no address, position, code or narrative), and its review once
made. The queue shows the strongest first, then the most recent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any

from orders import events
from orders.values import Strength
from projections.database import Row, Transaction, ViewDatabase, iso, parse_iso, text
from projections.follower import View


class FindingsView(View):
    """Projects each finding, and its review, onto one row of the queue."""

    name = "findings"
    accepts = (events.Requested, events.Issued, events.ReportFlagged, events.FindingReviewed)
    tables = (
        "CREATE TABLE IF NOT EXISTS findings_orders (order_id TEXT PRIMARY KEY, "
        "district TEXT NOT NULL, inspector_id TEXT)",
        "CREATE TABLE IF NOT EXISTS findings ("
        "finding_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, district TEXT NOT NULL, "
        "inspector_id TEXT, rule TEXT NOT NULL, strength TEXT NOT NULL, "
        "strength_rank INTEGER NOT NULL, evidence TEXT NOT NULL, "
        "flagged_version INTEGER NOT NULL, flagged_at TEXT NOT NULL, decision TEXT, "
        "reviewed_at TEXT, reviewed_by TEXT)",
        "CREATE INDEX IF NOT EXISTS findings_queue "
        "ON findings (decision, strength_rank, flagged_at)",
    )

    @singledispatchmethod
    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        pass

    @apply.register
    def _(self, event: events.Requested, position: int, tx: Transaction) -> None:
        tx.execute(
            "INSERT INTO findings_orders (order_id, district) VALUES (?, ?)",
            (text(event.originator_id), event.request.district),
        )

    @apply.register
    def _(self, event: events.Issued, position: int, tx: Transaction) -> None:
        tx.execute(
            "UPDATE findings_orders SET inspector_id = ? WHERE order_id = ?",
            (event.terms.inspector_id, text(event.originator_id)),
        )

    @apply.register
    def _(self, event: events.ReportFlagged, position: int, tx: Transaction) -> None:
        f = event.finding
        # The order's district and assigned inspector, as this view last recorded them.
        tx.execute(
            "INSERT INTO findings (finding_id, order_id, district, inspector_id, rule, strength, "
            "strength_rank, evidence, flagged_version, flagged_at) VALUES (?, ?, "
            "(SELECT district FROM findings_orders WHERE order_id = ?), "
            "(SELECT inspector_id FROM findings_orders WHERE order_id = ?), ?, ?, ?, ?, ?, ?)",
            (
                f.finding_id,
                event.originator_id,
                event.originator_id,
                event.originator_id,
                f.rule,
                f.strength.value,
                f.strength.rank,
                f.evidence,
                f.flagged_version,
                iso(event.timestamp),
            ),
        )

    @apply.register
    def _(self, event: events.FindingReviewed, position: int, tx: Transaction) -> None:
        tx.execute(
            "UPDATE findings SET decision = ?, reviewed_at = ?, reviewed_by = ? "
            "WHERE finding_id = ?",
            (event.decision, iso(event.timestamp), event.actor.id, text(event.finding_id)),
        )


@dataclass(frozen=True)
class FindingFilter:
    """Which findings a queue shows: unreviewed ones (or reviewed), narrowed to a scope."""

    reviewed: bool = False
    strength: Strength | None = None
    within_districts: tuple[str, ...] | None = None
    limit: int = 100
    offset: int = 0


class Findings:
    """Queries over the findings view."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def queue(self, where: FindingFilter) -> list[Row]:
        """One page of findings, the strongest first, then the most recently flagged."""
        sql, params = self._where(where)
        rows = self.db.query(
            "SELECT * FROM findings" + sql + " ORDER BY strength_rank, flagged_at DESC, "
            "finding_id LIMIT ? OFFSET ?",
            (*params, where.limit, where.offset),
        )
        for row in rows:
            row["flagged_at"] = parse_iso(row["flagged_at"])
            row["reviewed_at"] = parse_iso(row["reviewed_at"])
        return rows

    def count(self, where: FindingFilter) -> int:
        sql, params = self._where(where)
        return int(self.db.query("SELECT COUNT(*) AS n FROM findings" + sql, params)[0]["n"])

    @staticmethod
    def _where(where: FindingFilter) -> tuple[str, list[object]]:
        clauses = ["decision IS NOT NULL" if where.reviewed else "decision IS NULL"]
        params: list[object] = []
        if where.strength is not None:
            clauses.append("strength = ?")
            params.append(where.strength.value)
        if where.within_districts is not None:
            marks = ", ".join("?" for _ in where.within_districts) or "NULL"
            clauses.append(f"district IN ({marks})")
            params.extend(where.within_districts)
        return " WHERE " + " AND ".join(clauses), params
