"""An aggregate's events read on PostgreSQL with a statement rendered to text once per shape.

The library composes its statement anew for every read, and psycopg renders a composed
statement on every execution: that cost more than the query itself. Reads of events (here,
the snapshots' and the log's) ask for binary results: a state comes as its bytes, not as
twice as many hex digits to decode.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Composable

Shape = tuple[bool, bool, bool, bool]


class RenderedSelects(PostgresAggregateRecorder):
    """The library's `select_events`, tried once, its statements rendered once per shape."""

    _rendered: dict[Hashable, str]

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        shape = (gt is not None, lte is not None, desc, limit is not None)
        params: list[Any] = [originator_id, *(p for p in (gt, lte, limit) if p is not None)]
        with self.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            curs.execute(self._statement(shape, conn), params, prepare=True)
            return [
                StoredEvent(
                    row["originator_id"],
                    row["originator_version"],
                    row["topic"],
                    bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def _statement(self, shape: Shape, conn: Any) -> str:
        def composed() -> Composable:
            gt, lte, desc, limit = shape
            statement = self.select_events_statement
            statement += SQL(" AND originator_version > %s") if gt else SQL("")
            statement += SQL(" AND originator_version <= %s") if lte else SQL("")
            statement += SQL(" ORDER BY originator_version") + SQL(" DESC" if desc else " ASC")
            return statement + (SQL(" LIMIT %s") if limit else SQL(""))

        return self._once(("select_events", shape), composed, conn)

    def _once(self, key: Hashable, composed: Callable[[], Composable], conn: Any) -> str:
        """The statement `composed` gives, rendered to text the first time `key` is asked
        for and kept: psycopg renders a composed statement on every execution."""
        rendered: dict[Hashable, str] = self.__dict__.setdefault("_rendered", {})
        text = rendered.get(key)
        if text is None:
            text = rendered[key] = composed().as_string(conn)
        return text
