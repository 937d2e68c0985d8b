"""Loading an order from its latest snapshot and the events after it, and writing snapshots.

A snapshot of an order is taken every `snapshotting_intervals` events, from the order as it
was just decided, and written with its events in their transaction (the library writes it
after, reading the order again), with the service's mark (orders.snapshots). An order is
loaded from the latest snapshot at or below the version asked (so `as_of` and a command key's
outcome never see a later state) whose mark holds beside the order's event at that version,
read in the same query as the events after it. A snapshot that does not hold, does not
restore, or cannot be read is passed over with a warning naming the order, and the order is
replayed from its events. A snapshot that cannot be taken is left out with a warning; one
already there is left as it is. Orders read or saved lately are kept in memory
(orders.recent), and brought up to date with their events since.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
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
    Notification,
    OperationalError,
    Recording,
    StoredEvent,
)

from orders import ledger
from orders.recent import RecentOrders
from orders.records import Records
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
    such snapshot, from all its events. Orders of `kept_types` read or saved lately are kept
    (orders.recent): one of those is brought up to date with its events since."""

    def __init__(
        self,
        event_store: EventStore[UUID],
        snapshots: SignedSnapshots,
        *,
        recent: RecentOrders,
        kept_types: tuple[type, ...],
    ) -> None:
        super().__init__(event_store, snapshot_store=snapshots)
        self.snapshots, self.recent, self.kept_types = snapshots, recent, kept_types

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        if version is not None or projector_func is not project_aggregate:
            return self._reconstruct_aggregate(aggregate_id, version, projector_func)
        kept = self.recent.get(aggregate_id)
        if kept is not None:
            rows = self.event_store.recorder.select_events(aggregate_id, gt=kept.order.version - 1)
            if rows and (rows[0].topic, rows[0].state) == (kept.last.topic, kept.last.state):
                return self.remember(_applied(kept.order, self._decoded(rows[1:])), rows[-1])
            log.warning(
                "order %s is not stored as this process last saw it: read afresh", aggregate_id
            )
            self.recent.forget(aggregate_id)
        order, last = self._load(aggregate_id, None)
        return self.remember(order, last)

    def remember(self, order: Any, last: StoredEvent | None) -> Any:
        """Keep the order (if of a kept type), whose last event is `last` as stored; it."""
        if last is not None and isinstance(order, self.kept_types):
            self.recent.keep(order, last)
        return order

    def _decoded(self, rows: Sequence[StoredEvent]) -> Iterable[Any]:
        return map(self.event_store.mapper.to_domain_event, rows)

    def _reconstruct_aggregate(
        self,
        aggregate_id: UUID,
        version: int | None,
        projector_func: ProjectorFunction[Any, Any],
    ) -> Any:
        return self._load(aggregate_id, version, projector_func)[0]

    def _load(
        self,
        aggregate_id: UUID,
        version: int | None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> tuple[Any, StoredEvent | None]:
        """The order at `version` (None: the latest), and its last event as stored."""
        stored, rows = self.snapshots.latest_with_events(aggregate_id, lte=version)
        last = rows[-1] if rows else None
        order = None
        if stored is not None:
            order = self.snapshots.restore(stored, rows[0] if rows else None)
            if order is None:
                log.warning("the snapshot of order %s does not hold: replayed", aggregate_id)
                rows = self.event_store.recorder.select_events(aggregate_id, lte=version)
                last = rows[-1] if rows else None
            else:
                rows = rows[1:]
        if projector_func is project_aggregate:
            projector_func = _applied
        aggregate = projector_func(order, self._decoded(rows))
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} version {version!r}")
        return aggregate, last


def _applied(order: Any, events: Iterable[Any]) -> Any:
    """Each event applied in turn: the library's projector does the same, after checking each
    against a runtime protocol, which costs more than applying most of the order's events."""
    for event in events:
        order = event.mutate(order)
    return order


class EventsWithSnapshots(EventStore[UUID]):
    """The event store, which writes snapshots taken at the new events' versions in the same
    transaction as the events, each marked beside its event as stored (orders.snapshots)."""

    def __init__(self, mapper: Mapper[UUID], recorder: AggregateRecorder, *, key: bytes) -> None:
        super().__init__(mapper, recorder)
        self.key = key

    def put(
        self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any
    ) -> list[Recording[UUID]]:
        taken: Sequence[DomainEventProtocol[UUID]] = kwargs.pop("snapshots", ())
        stored_events = [self.mapper.to_stored_event(e) for e in domain_events]
        kwargs["snapshots"] = self._marked(taken, stored_events)
        ids = self.recorder.insert_events(stored_events, **kwargs) or []
        return [
            Recording(d, Notification(s.originator_id, s.originator_version, s.topic, s.state, n))
            for d, s, n in zip(domain_events, stored_events, ids, strict=True)
        ]

    def _marked(
        self, taken: Sequence[DomainEventProtocol[UUID]], stored_events: Sequence[StoredEvent]
    ) -> list[StoredEvent]:
        at = {(e.originator_id, e.originator_version): e for e in stored_events}
        snapshots = []
        for snapshot in taken:
            order, version = snapshot.originator_id, snapshot.originator_version
            try:
                stored = self.mapper.to_stored_event(snapshot)
                snapshots.append(marked(self.key, stored, at[order, version]))
            except Exception as e:
                log.warning(
                    "no snapshot of order %s taken at %s (%s)", order, version, type(e).__name__
                )
        return snapshots


class Snapshotting(Application[UUID]):
    """An application that writes orders' snapshots with their events, marked, loads from
    them, and keeps orders of `kept_types` read or saved lately in memory (orders.recent)."""

    signer: ledger.Signer
    kept_types: tuple[type, ...] = ()
    KEPT_IN_MEMORY = "AGGREGATE_CACHE_MAXSIZE"  # how many orders at most (0: none)
    KEPT_BY_DEFAULT = 10_000

    def construct_event_store(self) -> EventStore[UUID]:
        return EventsWithSnapshots(self.mapper, self.recorder, key=self.signer.snapshot_key)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        if isinstance(self.recorder, Records):
            self.recorder.keep_snapshots_in(getattr(recorder, "events_table_name", "snapshots"))
        key = self.signer.snapshot_key
        return SignedSnapshots(self.mapper, recorder, events=self.recorder, key=key)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """The library's, with the snapshots due written in the events' transaction (the
        library writes them after, reading each order again), and the orders saved kept."""
        recordings = self.events.put(
            processing_event.events,
            tracking=processing_event.tracking,
            snapshots=self._snapshots_due(processing_event),
            **processing_event.saved_kwargs,
        )
        if isinstance(self.repository, SnapshotRepository):
            last = {r.notification.originator_id: r.notification for r in recordings}
            for order_id, aggregate in processing_event.aggregates.items():
                self.repository.remember(aggregate, last.get(order_id))
        return recordings

    def _snapshots_due(self, processing_event: ProcessingEvent[UUID]) -> list[Any]:
        """A snapshot of each order saved whose new events reach a multiple of its interval,
        taken at its new version."""
        if self.snapshots is None:
            return []
        first: dict[UUID, int] = {}
        for event in processing_event.events:
            first.setdefault(event.originator_id, event.originator_version)
        due = []
        for order_id, aggregate in processing_event.aggregates.items():
            interval = self.snapshotting_intervals.get(type(aggregate))
            taking = getattr(type(aggregate), "Snapshot", None)
            if not interval or taking is None or order_id not in first:
                continue
            if aggregate.version // interval > (first[order_id] - 1) // interval:
                try:
                    due.append(taking.take(aggregate))
                except Exception as e:
                    log.warning("no snapshot of order %s taken (%s)", order_id, type(e).__name__)
        return due

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Nothing: the snapshots due were written with the events (`_record`)."""

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """The library's, for a snapshot asked for on its own: it never raises."""
        try:
            super().take_snapshot(aggregate_id, version, projector_func)
        except Exception as e:
            log.warning(
                "no snapshot of order %s taken at %s (%s)", aggregate_id, version, type(e).__name__
            )

    def construct_repository(self) -> Repository[UUID]:
        """With snapshots, a repository that loads from them and keeps orders read lately;
        without (IS_SNAPSHOTTING_ENABLED=n), the library's."""
        if not isinstance(self.snapshots, SignedSnapshots):
            return super().construct_repository()
        size = int(self.env.get(self.KEPT_IN_MEMORY) or self.KEPT_BY_DEFAULT)
        return SnapshotRepository(
            self.events, self.snapshots, recent=RecentOrders(size), kept_types=self.kept_types
        )
