"""The log's order: one that no follower can pass an event by, however writers interleave.

Writers append without locking the events table, so they commit together (one disk flush for
many) instead of one after another. Then an event's id alone is no safe cursor: a transaction
that drew id 7 may commit after one that drew id 8, and a reader that saw 8 and moved its
cursor there would never see 7 (an event store of another ecosystem shipped that bug).

On PostgreSQL each event carries the id of the transaction that wrote it (`tx`, its xid), and
the log's order is (tx, id). A reader takes only events whose transaction is older than the
oldest one still running (`pg_snapshot_xmin(pg_current_snapshot())`): every such transaction
has ended, committed or not, so no event can later appear before them in that order. A
transaction still running when a reader looks is newer than that mark, and so are all that
start later: what becomes visible later always sorts after what was read. The cost: an event
waits to be read until every older writing transaction has ended (milliseconds, unless one
is held open; `/health` shows the read models' lag).

On SQLite one transaction writes at a time, so ids are committed in order: the order is the
id's, and every event's tx is 0.

A place in the log is (tx, position), position being the event's id; the follower's cursors,
the checkpoints' cursors and the signed trees all follow this order.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from eventsourcing.persistence import Notification

Place = tuple[int, int]
"""(tx, position): where an event sits in the log's order."""

START: Place = (0, 0)


@runtime_checkable
class Log(Protocol):
    """The event store's log as the follower reads it (both engines' recorders keep it)."""

    def select_after(self, tx: int, position: int, limit: int) -> list[tuple[int, Notification]]:
        """Up to `limit` events after the place (tx, position), in log order, with their tx."""

    def tx_of(self, position: int) -> int | None:
        """The transaction of the event at `position`; None: no such event."""

    def count_after(self, place: Place) -> int:
        """How many stored events lie after `place`."""

    def max_notification_id(self) -> int | None:
        """The highest position any stored event has."""


POSTGRES = {
    "{position}": "notification_id",
    "{tx}": "tx",
    "{order}": "tx, notification_id",
    "{after}": "(tx, notification_id) > (?, ?)",
    "{final}": "tx < (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)",
}

SQLITE = {
    "{position}": "rowid",
    "{tx}": "0",
    "{order}": "rowid",
    "{after}": "rowid > ?",
    "{final}": "1 = 1",
}


def fill(sql: str, events_table: str, engine: dict[str, str]) -> str:
    """A statement of storage.schema in one engine's terms (placeholders still `?`)."""
    for name, text in engine.items():
        sql = sql.replace(name, text)
    return sql.replace("{events}", events_table)
