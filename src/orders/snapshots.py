"""An order's state at one version, as the snapshots table keeps it, and the service's mark.

A snapshot is not evidence: the events are. It only spares replaying them, so it is used only
when it is certainly the service's own and agrees with the events: the service marks each one
it writes (HMAC-SHA256, with a key derived from its signing key) over the order's id, the
version, the snapshot as stored and the order's event at that version as stored. A snapshot
written or altered around the service, moved to another order or version, or left behind by
events that are no longer there, fails its mark and is ignored: the order is replayed from
its events. Never rename or move `OrderSnapshot`: its topic is in every snapshot row (one
that no longer resolves is ignored too, and the order replayed).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import typing
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from orders.state import OrderState
from orders.transcoding import coerce

KEPT = "state_kept"  # which shape of orders.state the snapshot holds
STATE_VERSION = 1  # raise it when what an order keeps, or how, changes: older ones are ignored
DOMAIN = b"protection-orders snapshot\n"
MARK_BYTES = 32


class StaleSnapshot(Exception):
    """A snapshot of another shape of the order's state than this service keeps."""


class OrderSnapshot(Snapshot):
    """A protection order's state at one version; restored with each attribute's own type."""

    @classmethod
    def take(cls, aggregate: Any) -> Self:
        taken = super().take(aggregate)
        taken.state[KEPT] = STATE_VERSION
        return taken

    def mutate(self, _: None) -> Any:
        """The order as it stood at this version (JSON gave back text for enums, lists for
        tuples: each attribute is given its declared type again)."""
        state = dict(self.state)
        types = _state_types()
        kept = {k for k in state if not k.startswith("_")} - {KEPT}
        if state.pop(KEPT, None) != STATE_VERSION or kept != set(types):
            raise StaleSnapshot(f"state {self.state.get(KEPT)} of {sorted(kept ^ set(types))}")
        for name, hint in types.items():
            state[name] = coerce(state[name], hint)
        state.update(_id=self.originator_id, _version=self.originator_version)
        state["_pending_events"] = []
        order = object.__new__(resolve_topic(self.topic))
        object.__setattr__(order, "__dict__", state)
        return order


@functools.cache
def _state_types() -> dict[str, Any]:
    return typing.get_type_hints(OrderState)


def mark(key: bytes, snapshot: StoredEvent, event: StoredEvent) -> bytes:
    """The service's mark on a snapshot as stored (without its mark), beside the order's event
    at the snapshot's version as stored."""
    mac = hmac.new(key, DOMAIN, hashlib.sha256)
    for part in (
        _id(snapshot.originator_id),
        str(snapshot.originator_version).encode(),
        snapshot.topic.encode(),
        snapshot.state,
        _id(event.originator_id),
        str(event.originator_version).encode(),
        event.topic.encode(),
        event.state,
    ):
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.digest()


def _id(originator_id: UUID | str) -> bytes:
    """An order's id as 16 bytes, however the table gave it (hex text on SQLite)."""
    return UUID(str(originator_id)).bytes


def marked(key: bytes, snapshot: StoredEvent, event: StoredEvent) -> StoredEvent:
    """The snapshot as the table keeps it: its mark, then its state."""
    state = mark(key, snapshot, event) + snapshot.state
    return StoredEvent(snapshot.originator_id, snapshot.originator_version, snapshot.topic, state)


def unmarked(key: bytes, stored: StoredEvent, event: StoredEvent | None) -> StoredEvent | None:
    """The snapshot without its mark if the mark holds beside `event` (the order's event at
    its version as now stored); None if it does not, or there is no such event."""
    if event is None or event.originator_version != stored.originator_version:
        return None
    given, state = stored.state[:MARK_BYTES], stored.state[MARK_BYTES:]
    snapshot = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, state)
    if not hmac.compare_digest(given, mark(key, snapshot, event)):
        return None
    return snapshot
