"""Who has seen which order's sensitive fields, and when: one row per read.

Holds field names, never their values.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from orders.disclosure import Disclosure
from projections.database import Row, Transaction, ViewDatabase, iso, parse_iso, text
from projections.follower import View


class DisclosuresView(View):
    """Projects each recorded disclosure onto a row, keyed by its position in the log."""

    name = "disclosures"
    accepts = (Disclosure.Recorded,)
    tables = (
        "CREATE TABLE IF NOT EXISTS disclosures ("
        "position BIGINT PRIMARY KEY, order_id TEXT NOT NULL, actor_id TEXT NOT NULL, "
        "actor_role TEXT NOT NULL, fields TEXT NOT NULL, read_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS disclosures_order ON disclosures (order_id, position)",
    )

    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        tx.execute(
            "INSERT INTO disclosures (position, order_id, actor_id, actor_role, fields, read_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                position,
                text(event.order_id),
                event.actor.id,
                event.actor.role,
                ",".join(event.fields),
                iso(event.timestamp),
            ),
        )


class Disclosures:
    """Queries over the disclosures view."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def of(self, order_id: UUID) -> list[Row]:
        rows = self.db.query(
            "SELECT * FROM disclosures WHERE order_id = ? ORDER BY position", (str(order_id),)
        )
        for row in rows:
            row["fields"] = row["fields"].split(",")
            row["read_at"] = parse_iso(row["read_at"])
        return rows
