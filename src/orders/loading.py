"""Loading orders: from memory (orders.recent) with their events since, or from the latest
snapshot whose mark holds and the events after it, or from all their events.

An order is loaded from the latest snapshot at or below the version asked (so `as_of` and a
command key's outcome never see a later state) whose mark holds beside the order's event at
that version, read in the same query as the events after it; many orders at once in one
query. A snapshot that does not hold, does not restore, or cannot be read is passed over with
a warning naming the order, and the order is replayed from its events. Orders read or saved
lately are kept in memory, and brought up to date with their events since (decision 024).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
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

from orders.recent import RecentOrders
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

    def select_latest_with_events_of(
        self, order_ids: Sequence[UUID], *, events_table: str
    ) -> dict[UUID, tuple[StoredEvent | None, list[StoredEvent]]]:
        """Each order's latest snapshot and its events from it on, as above, in one read; an
        order with no events is left out."""


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

    def latest_with_events_of(
        self, order_ids: Sequence[UUID]
    ) -> dict[UUID, tuple[StoredEvent | None, Sequence[StoredEvent]]] | None:
        """`latest_with_events` of each order, in one read (None: this table cannot)."""
        if self.table is None:
            return None
        events_table = getattr(self.events, "events_table_name", "")
        return dict(self.table.select_latest_with_events_of(order_ids, events_table=events_table))

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
    (orders.recent): one of those is brought up to date with its events since (up to the
    version asked, if it is not past it)."""

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
        if projector_func is not project_aggregate:
            return self._reconstruct_aggregate(aggregate_id, version, projector_func)
        kept = self.recent.get(aggregate_id)
        if kept is not None and (version is None or kept.order.version <= version):
            rows = self.event_store.recorder.select_events(
                aggregate_id, gt=kept.order.version - 1, lte=version
            )
            if rows and (rows[0].topic, rows[0].state) == (kept.last.topic, kept.last.state):
                if len(rows) == 1:
                    return kept.order  # nothing new: the one kept stays as it is
                return self.remember(_applied(kept.order, self._decoded(rows[1:])), rows[-1])
            log.warning(
                "order %s is not stored as this process last saw it: read afresh", aggregate_id
            )
            self.recent.forget(aggregate_id)
        order, last = self._load(aggregate_id, version)
        return self.remember(order, last) if version is None else order

    def kept(self, order_id: UUID) -> Any | None:
        """A copy of the order as kept, without asking the store what is new (None: not
        kept). Only for a decision whose save proves it current (orders.application)."""
        kept = self.recent.get(order_id)
        return None if kept is None else kept.order

    def get_many(self, order_ids: Sequence[UUID]) -> dict[UUID, Any]:
        """The latest of each order, or the error loading it raised; an order not found is
        left out. Those kept in memory are brought up to date one by one, the others read
        together: their snapshots and the events after them in one read."""
        kept = [i for i in order_ids if i in self.recent]
        try:
            latest = self.snapshots.latest_with_events_of([i for i in order_ids if i not in kept])
        except (OperationalError, InterfaceError):
            raise  # the database is away: none of them could be read
        except Exception as e:  # read one by one, each as `get` does
            log.warning(
                "%d orders could not be read together (%s)", len(order_ids), type(e).__name__
            )
            latest = None
        found: dict[UUID, Any] = {}
        for order_id in order_ids:
            try:
                if latest is None or order_id in kept:
                    found[order_id] = self.get(order_id)
                elif order_id in latest:
                    stored, rows = latest[order_id]
                    order, last = self._restored(order_id, None, stored, rows, project_aggregate)
                    found[order_id] = self.remember(order, last)
            except AggregateNotFoundError:
                continue
            except Exception as error:
                found[order_id] = error
        return found

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
        return self._restored(aggregate_id, version, stored, rows, projector_func)

    def _restored(
        self,
        aggregate_id: UUID,
        version: int | None,
        stored: StoredEvent | None,
        rows: Sequence[StoredEvent],
        projector_func: ProjectorFunction[Any, Any],
    ) -> tuple[Any, StoredEvent | None]:
        """The order from its snapshot as stored (if it holds) and `rows`, its events from the
        snapshot's version on; from all its events if it does not."""
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
