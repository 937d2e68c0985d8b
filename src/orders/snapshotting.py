"""Writing orders' snapshots with their events, and the application that loads from them.

A snapshot of an order is taken every `snapshotting_intervals` events, from the order as it
was just decided, and written with its events in their transaction (the library writes it
after, reading the order again), with the service's mark (orders.snapshots). A snapshot that
cannot be taken is left out with a warning; one already there is left as it is. Loading is
orders.loading's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    Application,
    ProcessingEvent,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import BaseAggregate, DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
)

from orders import ledger
from orders.loading import SignedSnapshots, SnapshotRepository
from orders.recent import RecentOrders
from orders.records import Records
from orders.snapshots import marked

log = logging.getLogger(__name__)


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

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's, which collects an aggregate's events after checking it against its
        runtime protocols: a tenth of a command's CPU. An aggregate is collected directly."""
        processing_event = ProcessingEvent[UUID]()
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, as it calls it
        return recordings

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
