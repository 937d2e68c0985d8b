"""What the application asks of its event store beyond the library's recorder (the port).

Written beside each event, in its transaction: the command key it answered (decision 007) and
its seal (decision 008). Read back: keys, seals, the log in order, checkpoints, the database's
clock. The `storage` package implements this for SQLite and PostgreSQL; nothing here knows
which database it is, or holds any SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Cipher, Compressor

from orders import ledger
from orders.cosignatures import Cosignature


@dataclass(frozen=True)
class CommandKey:
    """A caller's key for one command, the request's fingerprint, and what the command made."""

    actor_id: str
    key: str
    fingerprint: str
    order_id: UUID | None = None
    version: int = 0
    ref: str = ""

    def with_result(self, order_id: UUID, version: int, ref: str) -> CommandKey:
        return replace(self, order_id=order_id, version=version, ref=ref)


@dataclass(frozen=True)
class Sealing:
    """What a recorder needs to seal events: the seal key, and the cipher and compressor the
    states are stored with, to see them as recorded."""

    key: bytes
    cipher: Cipher | None
    compressor: Compressor | None = None

    def plain(self, stored: bytes) -> bytes:
        return as_recorded(stored, self.cipher, self.compressor)


def as_recorded(stored: bytes, cipher: Cipher | None, compressor: Compressor | None) -> bytes:
    """A stored state as recorded: decrypted, then decompressed (the library's order)."""
    state = cipher.decrypt(stored) if cipher is not None else stored
    return compressor.decompress(state) if compressor is not None else state


@dataclass(frozen=True)
class Seal:
    """One event's chained digest and the service's seal of it, both base64 as stored."""

    order_id: UUID
    version: int
    digest: str
    seal: str


@dataclass(frozen=True)
class LogEntry:
    """One stored event's place in the log: its order, its version, its kind (topic)."""

    order_id: UUID
    version: int
    topic: str


@dataclass(frozen=True)
class LoggedEvent(LogEntry):
    """A log entry with the event's state as stored (encrypted, if encryption is on), and its
    position in the log."""

    state: bytes
    position: int = 0
    tx: int = 0  # the transaction that wrote it: the log's order is (tx, position)


@dataclass(frozen=True)
class Cursor:
    """Where a checkpoint left the log: the place of its last event (its transaction and
    position), and the frontier of its tree. Unsigned: the frontier is checked against the
    signed root before it is used."""

    position: int
    last: tuple[UUID, int] | None  # the event at that position: still there, or the log moved
    frontier: ledger.Frontier
    mac: bytes = b""  # the service's keyed mark over it and its checkpoint: not written around
    tx: int = 0

    def statement(self, size: int, root: bytes) -> bytes:
        """What the mark covers: the cursor, and the checkpoint it belongs to."""
        last = None if self.last is None else [str(self.last[0]), self.last[1]]
        frontier = [[width, ledger.b64(node)] for width, node in self.frontier]
        fields = [size, ledger.b64(root), self.position, last, frontier, self.tx]
        return json.dumps(fields, separators=(",", ":")).encode()


Heads = dict[UUID, tuple[int, bytes]]
"""Per order, its latest event's version and digest: what a checkpoint's orders tree holds."""


@runtime_checkable
class Records(Protocol):
    """The event store's records beside the events: keys, seals, the log, checkpoints, clock."""

    def keep_snapshots_in(self, table: str) -> None:
        """Snapshots given to `insert_events` (as `snapshots=`, stored and marked) are written
        to `table` in the events' own transaction, each unless one is there already."""

    def find_command_key(self, actor_id: str, key: str) -> CommandKey | None:
        """The key as stored with its command's result; None if it was never used."""

    def vouches(self, order_id: UUID, version: int) -> bool:
        """Whether this process wrote the order's event at `version` and knows no later one:
        then an append after it is stored only if the store still holds that event as this
        process wrote it, and a conflict otherwise (nothing written)."""

    def select_seals(self) -> list[Seal]:
        """Every stored seal, in no particular order."""

    def select_log(self) -> list[LogEntry]:
        """Every stored event in log order, without its state."""

    def select_log_events(self, after: tuple[int, int] = (0, 0)) -> list[LoggedEvent]:
        """Every stored event after the place `after` (its transaction, its position), in
        log order, with its state: only events no later commit can precede."""

    def select_entry_at(self, position: int) -> LogEntry | None:
        """The event at a log position (None: there is none)."""

    def select_seals_of(self, orders: set[UUID]) -> list[Seal]:
        """The seals of these orders' events."""

    def insert_checkpoint(
        self, checkpoint: ledger.Checkpoint, heads: Heads, before: Heads, cursor: Cursor
    ) -> None:
        """Keep a signed checkpoint, its cursor and, of its `heads`, those not as they were
        `before` (at the checkpoint before it), in one transaction; for good, like the events.
        A checkpoint of that size kept meanwhile (by another scheduler) is left as it is."""

    def select_cursor(self, size: int) -> Cursor | None:
        """Where the checkpoint of `size` events left the log (None: not kept)."""

    def select_checkpoint_heads(self, size: int) -> Heads:
        """Each order's head as the checkpoints up to `size` kept them, orders in the order
        they were first kept."""

    def select_latest_checkpoint(self) -> ledger.Checkpoint | None:
        """The checkpoint over the most events; None before the first is signed."""

    def select_checkpoints(self) -> list[ledger.Checkpoint]:
        """Every checkpoint kept, the smallest first."""

    def insert_checkpoint_cosignature(self, size: int, cosignature: Cosignature) -> None:
        """Keep, for good, a witness's countersignature of the checkpoint of `size` events
        (once per witness: the same one again is ignored)."""

    def select_checkpoint_cosignatures(self, size: int) -> list[Cosignature]:
        """The witnesses' countersignatures kept for the checkpoint of `size` events."""

    def insert_checkpoint_refusal(self, refused_at: str, reason: str) -> None:
        """Keep, for good, that a checkpoint was refused (here or by a witness) and why."""

    def select_checkpoint_refusals(self) -> list[tuple[str, str]]:
        """Every refusal kept, oldest first, as (refused at, reason)."""

    def insert_presence_secret(self, order_id: UUID, proof_id: UUID, sealed: str) -> None:
        """Keep a proof-of-presence secret, encrypted (for good, like the events)."""

    def select_presence_secrets(self, order_id: UUID) -> dict[UUID, str]:
        """The order's encrypted proof-of-presence secrets, by proof id."""

    def database_time(self) -> datetime | None:
        """The database server's own clock; None where it has none apart from ours (SQLite)."""


@runtime_checkable
class SealingFactory(Protocol):
    """An infrastructure factory that builds the application's recorder to seal every event."""

    def sealing_recorder(self, sealing: Sealing) -> ApplicationRecorder:
        """The application recorder, writing seals with `sealing` and keeping `Records`."""
