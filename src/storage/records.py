"""What both engines' recorders add to the library's, written once in portable SQL."""

from __future__ import annotations

import binascii
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, RecordConflictError, StoredEvent

from orders import ledger
from orders.cosignatures import Cosignature
from orders.records import CommandKey, Cursor, Heads, LogEntry, LoggedEvent, Seal, Sealing
from storage import schema, sealing
from storage.order import START, Place
from storage.sealing import KnownDigests, Link, Read, SealRow

Row = dict[str, Any]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Beside:
    """What is written with the events, in their transaction: each event's seal, the
    command's key, and snapshots of orders taken at their new versions (orders.snapshotting);
    and the links to check first: the seals, as this process wrote them, of the events the
    new ones chain on (storage.sealing)."""

    seals: list[SealRow]
    keys: list[tuple[Any, ...]]
    snapshots: Sequence[StoredEvent]
    links: list[Link]


class SealedRecords(ABC):
    """Seals, command keys and snapshots written with the events; `orders.records.Records`
    read back.

    An engine's recorder works out what goes with the events with `_beside` and writes it in
    their transaction, and runs a statement in a transaction of its own with `_rows`. Without
    a sealing it writes no seals (and verify-store names every event so written).
    """

    sealing: Sealing | None = None
    snapshots_table: str | None = None  # where snapshots passed with events go
    known: KnownDigests

    @abstractmethod
    def _rows(self, sql: str, params: tuple[Any, ...] = (), *, commit: bool = False) -> list[Row]:
        """Run one statement from `schema` in a transaction of its own; the rows it returns."""

    @abstractmethod
    def _batch(self, steps: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """Run each statement of `schema` over its rows, all in one transaction."""

    @abstractmethod
    def database_time(self) -> datetime | None:
        """The database server's own clock; None where it has none apart from ours."""

    @abstractmethod
    def _after(self, place: Place) -> tuple[int, ...]:
        """The parameters of {after} for events after `place`, in this engine's terms."""

    @abstractmethod
    def select_after(self, tx: int, position: int, limit: int) -> list[tuple[int, Notification]]:
        """Up to `limit` events after the place (tx, position), in log order, each with its
        transaction: only events no later commit can precede (storage.order)."""

    def tx_of(self, position: int) -> int | None:
        """The transaction of the event at `position` (its id); None: no such event."""
        rows = self._rows(schema.SELECT_TX_OF, (position,))
        return int(rows[0]["tx"]) if rows else None

    def count_after(self, place: Place) -> int:
        """How many stored events lie after `place` in the log's order."""
        return int(self._rows(schema.COUNT_AFTER, self._after(place))[0]["behind"])

    def keep_snapshots_in(self, table: str) -> None:
        """Snapshots go with the events into `table`, if it is there and this role may write
        it; if not (a store not yet migrated), none is written and orders load from their
        events, rather than every command that takes one failing."""
        if self._writable(table):
            self.snapshots_table = table
        else:
            log.warning(
                "snapshots are not kept: table %s is missing or not writable by this role; "
                "run `protection-orders migrate`",
                table,
            )

    @abstractmethod
    def _writable(self, table: str) -> bool:
        """Whether `table` exists and this connection's role may insert into it."""

    def _beside(
        self, read: Read, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> Beside:
        """The rows to write with `stored_events`, given `insert_events`' keyword arguments."""
        sealed = sealing.Sealed([], [])
        if self.sealing is not None:
            sealed = sealing.seals(read, stored_events, self.sealing, self.known)
        key: CommandKey | None = kwargs.get("command_key")
        snapshots = kwargs.get("snapshots") or () if self.snapshots_table else ()
        keys = [] if key is None else [_key_row(key)]
        return Beside(sealed.seals, keys, snapshots, sealed.links)

    def vouches(self, order_id: UUID, version: int) -> bool:
        """Whether this process wrote the order's event at `version`, as far as it knows its
        latest: an append after it is then stored only if the store still holds that event
        as this process sealed it (storage.sealing)."""
        return self.sealing is not None and self.known.vouches(str(order_id), version)

    def _links_broken(self, links: Sequence[Link]) -> RecordConflictError:
        """The error for an append refused because a link did not hold: the store no longer
        holds an event as this process sealed it (put back behind its back). Those orders'
        digests are forgotten, so the command, decided again, reads them from the store."""
        orders = sorted({order for order, _, _ in links})
        self.known.forget(orders)
        log.warning(
            "order(s) %s not stored as this process sealed them: nothing written, read afresh",
            ", ".join(orders),
        )
        return RecordConflictError("the order's stored events are not as this process wrote them")

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        """The library's insert, after which the digests it sealed are known as committed."""
        self.known.begin()
        inserted = super().insert_events(stored_events, **kwargs)  # type: ignore[misc]
        self.known.committed()
        return inserted

    def find_command_key(self, actor_id: str, key: str) -> CommandKey | None:
        rows = self._rows(schema.SELECT_KEY, (actor_id, key))
        return _key(rows[0]) if rows else None

    def select_seals(self) -> list[Seal]:
        return [
            Seal(UUID(row["originator_id"]), int(row["version"]), row["digest"], row["seal"])
            for row in self._rows(schema.SELECT_SEALS)
        ]

    def select_log(self) -> list[LogEntry]:
        return [
            LogEntry(_uuid(row["originator_id"]), int(row["originator_version"]), row["topic"])
            for row in self._rows(schema.SELECT_LOG)
        ]

    def select_log_events(self, after: Place = START) -> list[LoggedEvent]:
        return [
            LoggedEvent(
                _uuid(row["originator_id"]),
                int(row["originator_version"]),
                row["topic"],
                bytes(row["state"]),
                int(row["position"]),
                int(row["tx"]),
            )
            for row in self._rows(schema.SELECT_LOG_EVENTS, self._after(after))
        ]

    def select_seals_of(self, orders: set[UUID]) -> list[Seal]:
        if not orders:
            return []
        marks = ", ".join("?" for _ in orders)
        rows = self._rows(
            schema.SELECT_SEALS_OF.replace("{orders}", marks), tuple(str(o) for o in orders)
        )
        return [
            Seal(UUID(row["originator_id"]), int(row["version"]), row["digest"], row["seal"])
            for row in rows
        ]

    def insert_checkpoint(
        self, checkpoint: ledger.Checkpoint, heads: Heads, before: Heads, cursor: Cursor
    ) -> None:
        data = checkpoint.as_json()
        row = (
            checkpoint.size,
            data["root"],
            data["signed_at"],
            data["signature"],
            data.get("orders_root"),
            _cursor_json(cursor),
        )
        changed = [
            (checkpoint.size, str(order), place, version, ledger.b64(digest))
            for place, (order, (version, digest)) in enumerate(heads.items())
            if order not in before or before[order] != (version, digest)
        ]
        self._batch([(schema.INSERT_HEAD, changed), (schema.INSERT_CHECKPOINT, [row])])

    def select_cursor(self, size: int) -> Cursor | None:
        rows = self._rows(schema.SELECT_CURSOR, (size,))
        return _cursor(rows[0]["cursor"]) if rows and rows[0]["cursor"] else None

    def select_entry_at(self, position: int) -> LogEntry | None:
        rows = self._rows(schema.SELECT_ENTRY_AT, (position,))
        if not rows:
            return None
        row = rows[0]
        return LogEntry(_uuid(row["originator_id"]), int(row["originator_version"]), row["topic"])

    def select_checkpoint_heads(self, size: int) -> Heads:
        kept: dict[UUID, tuple[int, int, bytes]] = {}
        for row in self._rows(schema.SELECT_HEADS, (size,)):
            try:
                head = (int(row["place"]), int(row["version"]), ledger.unb64(row["digest"]))
                kept[UUID(row["order_id"])] = head
            except (ValueError, binascii.Error):
                continue  # damaged: the heads then do not hash to the signed root, and say so
        in_place = sorted(kept.items(), key=lambda item: item[1][0])
        return {order: (version, digest) for order, (_, version, digest) in in_place}

    def select_latest_checkpoint(self) -> ledger.Checkpoint | None:
        rows = self._rows(schema.SELECT_LATEST_CHECKPOINT)
        return ledger.Checkpoint.from_json(rows[0]) if rows else None

    def select_checkpoints(self) -> list[ledger.Checkpoint]:
        return [ledger.Checkpoint.from_json(row) for row in self._rows(schema.SELECT_CHECKPOINTS)]

    def insert_checkpoint_cosignature(self, size: int, cosignature: Cosignature) -> None:
        data = cosignature.as_json()
        self._rows(
            schema.INSERT_COSIGNATURE,
            (size, data["witness_key"], data["cosigned_at"], data["signature"]),
            commit=True,
        )

    def select_checkpoint_cosignatures(self, size: int) -> list[Cosignature]:
        return [
            Cosignature.from_json(row) for row in self._rows(schema.SELECT_COSIGNATURES, (size,))
        ]

    def insert_presence_secret(self, order_id: UUID, proof_id: UUID, sealed: str) -> None:
        self._rows(
            schema.INSERT_PRESENCE_SECRET, (str(proof_id), str(order_id), sealed), commit=True
        )

    def select_presence_secrets(self, order_id: UUID) -> dict[UUID, str]:
        rows = self._rows(schema.SELECT_PRESENCE_SECRETS, (str(order_id),))
        return {UUID(row["proof_id"]): row["sealed"] for row in rows}

    def insert_checkpoint_refusal(self, refused_at: str, reason: str) -> None:
        self._rows(schema.INSERT_REFUSAL, (refused_at, reason), commit=True)

    def select_checkpoint_refusals(self) -> list[tuple[str, str]]:
        return [(r["refused_at"], r["reason"]) for r in self._rows(schema.SELECT_REFUSALS)]


def _cursor_json(cursor: Cursor) -> str:
    return json.dumps(
        {
            "position": cursor.position,
            "tx": cursor.tx,
            "last": None if cursor.last is None else [str(cursor.last[0]), cursor.last[1]],
            "frontier": [[width, ledger.b64(node)] for width, node in cursor.frontier],
            "mac": ledger.b64(cursor.mac),
        }
    )


def _cursor(text: str) -> Cursor | None:
    try:
        data = json.loads(text)
        last = data["last"]
        return Cursor(
            int(data["position"]),
            None if last is None else (UUID(last[0]), int(last[1])),
            tuple((int(w), ledger.unb64(n)) for w, n in data["frontier"]),
            ledger.unb64(str(data.get("mac") or "")),
            int(data.get("tx") or 0),
        )
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error):
        return None  # unsigned and damaged: the next checkpoint looks at the whole log


def _uuid(stored: object) -> UUID:
    """An events table's originator id: hex text on SQLite, a uuid on PostgreSQL."""
    return UUID(str(stored))


def _key_row(key: CommandKey) -> tuple[Any, ...]:
    return (key.actor_id, key.key, key.fingerprint, str(key.order_id), key.version, key.ref)


def _key(row: Row) -> CommandKey:
    return CommandKey(
        row["actor_id"],
        row["key"],
        row["fingerprint"],
        UUID(row["order_id"]),
        int(row["version"]),
        row["ref"],
    )
