"""Loading an order from its latest snapshot and the events after it, and writing snapshots.

The library takes a snapshot of an order every `snapshotting_intervals` events, after they are
saved; here each is written with the service's mark (orders.snapshots), and an order is loaded
from the latest snapshot at or below the version asked (so `as_of` and a command key's outcome
never see a later state) whose mark holds beside the order's event at that version, read in
the same query as the events after it. A snapshot that does not hold, does not restore, or
cannot be read is passed over with a warning naming the order, and the order is replayed from
its events. Writing a snapshot never fails a command: its events are already saved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    InterfaceError,
    Mapper,
    OperationalError,
    Recording,
    StoredEvent,
)

from orders import ledger
from orders.snapshots import marked, unmarked

log = logging.getLogger(__name__)


@runtime_checkable
class SnapshotsTable(Protocol):
    """A snapshots table that gives an order's latest snapshot with its events in one read."""

    def select_latest_with_events(
        self, order_id: UUID, *, lte: int | None, events_table: str
    ) -> tuple[StoredEvent | None, list[StoredEvent]]:
        """The latest snapshot at or below `lte` (None: none), and the order's events up to
        `lte` from the snapshot's version on (the event it was taken at first), or all."""


class SignedSnapshots(EventStore[UUID]):
    """The snapshots table: each snapshot written with the service's mark, and read back only
    beside the event it was taken at."""

    def __init__(
        self,
        mapper: Mapper[UUID],
        recorder: AggregateRecorder,
        *,
        events: AggregateRecorder,
        key: bytes,
    ) -> None:
        super().__init__(mapper, recorder)
        self.events, self.key = events, key
        self.table = recorder if isinstance(recorder, SnapshotsTable) else None

    def put(
        self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any
    ) -> list[Recording[UUID]]:
        for snapshot in domain_events:
            self._keep(snapshot)
        return []

    def _keep(self, snapshot: DomainEventProtocol[UUID]) -> None:
        order, version = snapshot.originator_id, snapshot.originator_version
        try:
            (event,) = self.events.select_events(order, gt=version - 1, lte=version)
            stored = marked(self.key, self.mapper.to_stored_event(snapshot), event)
            self.recorder.insert_events([stored])
        except Exception as e:
            log.warning("no snapshot of order %s kept at %s (%s)", order, version, type(e).__name__)

    def latest_with_events(
        self, order_id: UUID, *, lte: int | None
    ) -> tuple[StoredEvent | None, Sequence[StoredEvent]]:
        """The order's latest snapshot at or below `lte` as stored, mark and all (None: there
        is none, or the table cannot be read), and its events up to `lte` from the snapshot's
        version on (all of them, without one)."""
        try:
            if self.table is not None:
                events_table = getattr(self.events, "events_table_name", "")
                return self.table.select_latest_with_events(
                    order_id, lte=lte, events_table=events_table
                )
            rows = self.recorder.select_events(order_id, desc=True, limit=1, lte=lte)
        except (OperationalError, InterfaceError):
            raise  # the database is away: the events could not be read either
        except Exception as e:
            log.warning("the snapshots of order %s cannot be read (%s)", order_id, type(e).__name__)
            rows = []
        stored = rows[0] if rows else None
        start = None if stored is None else stored.originator_version - 1  # with its event
        return stored, self.events.select_events(order_id, gt=start, lte=lte)

    def restore(self, stored: StoredEvent, event: StoredEvent | None) -> Any | None:
        """The order the snapshot holds, if its mark holds beside `event` and it restores."""
        snapshot = unmarked(self.key, stored, event)
        if snapshot is None:
            return None
        try:
            return self.mapper.to_domain_event(snapshot).mutate(None)  # type: ignore[attr-defined]
        except Exception:
            return None


class SnapshotRepository(Repository[UUID]):
    """Loads an order from its latest snapshot that holds and the events after it; with no
    such snapshot, from all its events."""

    def __init__(self, event_store: EventStore[UUID], snapshots: SignedSnapshots) -> None:
        super().__init__(event_store, snapshot_store=snapshots)
        self.snapshots = snapshots

    def _reconstruct_aggregate(
        self,
        aggregate_id: UUID,
        version: int | None,
        projector_func: ProjectorFunction[Any, Any],
    ) -> Any:
        stored, rows = self.snapshots.latest_with_events(aggregate_id, lte=version)
        order = None
        if stored is not None:
            order = self.snapshots.restore(stored, rows[0] if rows else None)
            if order is None:
                log.warning("the snapshot of order %s does not hold: replayed", aggregate_id)
                rows = self.event_store.recorder.select_events(aggregate_id, lte=version)
            else:
                rows = rows[1:]
        events = map(self.event_store.mapper.to_domain_event, rows)
        if projector_func is project_aggregate:
            projector_func = _applied
        aggregate = projector_func(order, events)
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} version {version!r}")
        return aggregate


def _applied(order: Any, events: Iterable[Any]) -> Any:
    """Each event applied in turn: the library's projector does the same, after checking each
    against a runtime protocol, which costs more than applying most of the order's events."""
    for event in events:
        order = event.mutate(order)
    return order


class Snapshotting(Application[UUID]):
    """An application that writes orders' snapshots with its mark and loads from them."""

    signer: ledger.Signer

    def construct_snapshot_store(self) -> EventStore[UUID]:
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        key = self.signer.snapshot_key
        return SignedSnapshots(self.mapper, recorder, events=self.recorder, key=key)

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """The library's, which `save` calls once the events are stored: it never raises, so
        a command whose events were saved is never reported failed (and sent again)."""
        try:
            super().take_snapshot(aggregate_id, version, projector_func)
        except Exception as e:
            log.warning(
                "no snapshot of order %s taken at %s (%s)", aggregate_id, version, type(e).__name__
            )

    def construct_repository(self) -> Repository[UUID]:
        """With snapshots, a repository that loads from them (and keeps no cache of its own,
        as the service configures none); without (IS_SNAPSHOTTING_ENABLED=n), the library's."""
        if not isinstance(self.snapshots, SignedSnapshots):
            return super().construct_repository()
        return SnapshotRepository(self.events, self.snapshots)
