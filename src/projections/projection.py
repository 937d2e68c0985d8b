"""What the follower keeps up to date: a projection, the tracking of an event it applies, and a
view (a projection that writes rows in the follower's transaction).

In the eventsourcing library's vocabulary: a projection has a `name` and a
`process_event(event, tracking)`; the tracking names the event's position in the log (and here
carries the transaction the projection writes in).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, singledispatchmethod
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.persistence import Tracking as LibraryTracking

from projections.database import Transaction
from storage.order import START, Place

INDEX = re.compile(r"CREATE INDEX IF NOT EXISTS (\w+) ON (\w+) .*", re.S)

Batch = Sequence[tuple[Place, Notification, Any]]
"""Events of the log in its order: each one's place, its stored form and the event decoded."""


@dataclass(frozen=True)
class Tracking(LibraryTracking):
    """An event's position in the log, and the transaction its projection writes in."""

    tx: Transaction | None  # None for a projection that writes outside the follower's
    place: Place = START

    @property
    def position(self) -> int:
        return self.notification_id


class Projection(ABC):
    """Something kept up to date from the log: a read model's tables, or the detectors."""

    name: str
    tables: Sequence[str] = ()
    """CREATE TABLE / CREATE INDEX statements, each IF NOT EXISTS, portable SQL."""
    accepts: tuple[type, ...] = (object,)
    """The event classes this projection reads; others pass by it."""
    kept: Sequence[str] = ()
    """Tables a rebuild leaves as they are: state the log alone cannot give again, such as
    which messages were delivered. The projection writes them so that applying an event
    again changes nothing (INSERT ... ON CONFLICT DO NOTHING)."""
    only_kept: tuple[type, ...] = ()
    """The event classes whose rows go only to kept tables: a rebuild passes them by up to
    the place the projection had reached before it (`kept_through`), whose rows those
    tables already hold; applying them again would change nothing."""
    kept_through: Place = START
    """The place the projection had reached when a rebuild in this process began."""
    in_transaction: bool = True
    """False for a projection whose effects are written elsewhere (by the application) and
    are idempotent: it sees each batch before the follower moves its position, so after a
    crash it may see an event again, never miss one."""

    @abstractmethod
    def process_event(self, event: Any, tracking: Tracking) -> None:
        """Apply one event at `tracking.position`, writing through `tracking.tx`."""

    def begin(self, tx: Transaction) -> None:  # noqa: B027 (most projections read nothing)
        """Read in `tx` what applying a batch will read, before any projection writes: a
        read waits for every write before it to be done."""

    def process_batch(self, batch: Batch, after: Place, tx: Transaction | None, log: str) -> None:
        """Apply each event of `batch` placed after `after` that this projection accepts, in
        order; `log` names the application whose log it is."""
        for place, notification, event in self._unkept(batch, after):
            if place > after and isinstance(event, self.accepts):
                self.process_event(event, Tracking(log, notification.id, tx, place))

    def _unkept(self, batch: Batch, after: Place) -> Batch:
        """`batch` but the events a rebuild passes by: those of `only_kept` up to
        `kept_through`, whose rows the kept tables already hold."""
        if not self.only_kept or self.kept_through <= after:
            return batch
        kept, only_kept = self.kept_through, self.only_kept
        return [e for e in batch if e[0] > kept or not isinstance(e[2], only_kept)]

    def table_names(self) -> list[str]:
        prefix = "CREATE TABLE IF NOT EXISTS "
        return [s.removeprefix(prefix).split()[0] for s in self.tables if s.startswith(prefix)]

    def rebuilt_tables(self) -> list[str]:
        """The tables a rebuild empties: all but the kept ones."""
        return [t for t in self.table_names() if t not in self.kept]

    def rebuilt_indexes(self) -> dict[str, str]:
        """The indexes a rebuild builds after it has filled the tables again, rather than
        keep them up to date through the filling, each by its name with its CREATE statement:
        the indexes of the emptied tables, but those that keep values unique."""
        rebuilt = set(self.rebuilt_tables())
        indexes = (INDEX.fullmatch(statement) for statement in self.tables)
        return {i.group(1): i.group(0) for i in indexes if i is not None and i.group(2) in rebuilt}


Handler = Callable[[Any, int, Transaction], None]


class View(Projection):
    """A read model: its tables, and how each event changes its rows."""

    @abstractmethod
    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        """Change the view's rows for one event at `position` in the log."""

    def process_event(self, event: Any, tracking: Tracking) -> None:
        assert tracking.tx is not None, "a view writes in the follower's transaction"
        self.apply(event, tracking.position, tracking.tx)

    def process_batch(self, batch: Batch, after: Place, tx: Transaction | None, log: str) -> None:
        assert tx is not None, "a view writes in the follower's transaction"
        handlers = self._handlers
        for place, _, event in self._unkept(batch, after):
            if place > after:
                kind = type(event)
                handler = handlers.get(kind) or handlers.setdefault(kind, self._handler(kind))
                handler(event, place[1], tx)

    @cached_property
    def _handlers(self) -> dict[type, Handler]:
        return {}

    def _handler(self, kind: type) -> Handler:
        """What `apply` does with an event of class `kind`, worked out once per class."""
        if not issubclass(kind, self.accepts):
            return _passes
        apply = next(c.__dict__["apply"] for c in type(self).__mro__ if "apply" in c.__dict__)
        if isinstance(apply, singledispatchmethod):
            chosen: Handler = apply.dispatcher.dispatch(kind).__get__(self)
            return chosen
        return self.apply


def _passes(event: Any, position: int, tx: Transaction) -> None:
    """An event the view does not read."""
