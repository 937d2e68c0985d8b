"""Each event's chained digest and seal, worked out before the events are written, and the
digests this process already knows (decision 008).

A seal chained on a digest this process knows rather than read is written only beside the
event it chains on as this process sealed it: the append carries that link (`Link`) and is
refused if the store's seal of that event differs or is gone (decision 026). That is what
lets a command be decided on an order this process wrote without reading it again
(orders.application).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from orders import ledger
from orders.commitments import committed_state
from orders.records import Sealing
from storage import schema

Row = dict[str, Any]


class Read(Protocol):
    """Runs one SELECT from `schema` where the events will be written; its rows."""

    def __call__(self, sql: str, params: tuple[Any, ...]) -> list[Row]: ...


SealRow = tuple[str, int, str, str]
Link = tuple[str, int, str]  # an order, the version of its event chained on, its digest


@dataclass(frozen=True)
class Sealed:
    """The seals of events about to be written, and the links they rest on."""

    seals: list[SealRow]
    links: list[Link]


class KnownDigests:
    """The digests of events this process saw committed, by order: events never change, so
    an order's event v-1 known here spares the read of its digest when event v is written.
    What a transaction writes becomes known only once it committed."""

    LIMIT = 100_000  # orders remembered; past that, forgotten all at once and read again

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, bytes]] = {}
        self._pending = threading.local()

    def before(self, order: str, version: int) -> bytes | None:
        known = self._known.get(order)
        return known[1] if known is not None and known[0] == version - 1 else None

    def written(self, order: str, version: int, digest: bytes) -> None:
        self._writes()[order] = (version, digest)

    def vouches(self, order: str, version: int) -> bool:
        """Whether this process sealed the order's event at `version`, its latest here."""
        known = self._known.get(order)
        return known is not None and known[0] == version

    def forget(self, orders: Sequence[str]) -> None:
        """Forget these orders' digests: read them from the store next time."""
        for order in orders:
            self._known.pop(order, None)

    def begin(self) -> None:
        self._pending.writes = {}

    def committed(self) -> None:
        if len(self._known) > self.LIMIT:
            self._known.clear()
        self._known.update(self._writes())
        self._pending.writes = {}

    def _writes(self) -> dict[str, tuple[int, bytes]]:
        writes: dict[str, tuple[int, bytes]] | None = getattr(self._pending, "writes", None)
        if writes is None:
            writes = self._pending.writes = {}
        return writes


ROWS_PER_STATEMENT = 200  # rows a multi-row statement carries at most


def seals(
    read: Read, stored_events: Sequence[StoredEvent], sealing: Sealing, known: KnownDigests
) -> Sealed:
    """Each event's chained digest and seal; the previous digests this process does not know
    are read in one statement, and those it knows are links the append must find held."""
    previous, links = _digests_before(read, stored_events, known)
    seals: list[SealRow] = []
    for event in stored_events:
        order, version = str(event.originator_id), event.originator_version
        plain = sealing.plain(event.state)
        state = committed_state(sealing.key, UUID(order), version, plain)
        digest = ledger.event_digest(
            previous.get(order, ledger.GENESIS), UUID(order), version, event.topic, state
        )
        seals.append(
            (order, version, ledger.b64(digest), ledger.b64(ledger.seal(sealing.key, digest)))
        )
        previous[order] = digest
        known.written(order, version, digest)
    return Sealed(seals, links)


def _digests_before(
    read: Read, stored_events: Sequence[StoredEvent], known: KnownDigests
) -> tuple[dict[str, bytes], list[Link]]:
    """The digest of the event before each order's first one here: known (and so a link to
    check), or read."""
    before: dict[str, bytes] = {}
    links: list[Link] = []
    wanted: dict[str, int] = {}
    for event in stored_events:
        order, version = str(event.originator_id), event.originator_version
        if order in before or order in wanted or version == 1:
            continue
        digest = known.before(order, version)
        if digest is not None:
            before[order] = digest
            links.append((order, version - 1, ledger.b64(digest)))
        else:
            wanted[order] = version - 1
    pairs = list(wanted.items())
    for start in range(0, len(pairs), ROWS_PER_STATEMENT):
        part = pairs[start : start + ROWS_PER_STATEMENT]
        marks = ", ".join("(?, ?)" for _ in part)
        rows = read(schema.SELECT_DIGESTS.format(pairs=marks), tuple(x for p in part for x in p))
        for row in rows:
            before[str(row["originator_id"])] = ledger.unb64(row["digest"])
    return before, links
