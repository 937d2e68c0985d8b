"""The one follower of the event log: each new event reaches each projection exactly once.

Every read model and the falsification detectors are projections (projections.projection) of
a follower; a caller may `wait` for a projection to reach a position.

The follower reads the log in its order (storage.order: by writing transaction, then id, and
only events no later commit can precede), decodes each event once, and applies a batch to
every projection in one pass: each projection's new place and its rows are written in one
transaction, which first moves each place on only if it is still where the batch started. A
crash loses nothing, and two followers (threads, processes, hosts) never apply the same event
twice: the second one's claim waits for the first to commit, then finds the place moved and
reads again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application

from projections.database import Transaction, ViewDatabase
from projections.projection import Batch, Projection, Tracking, View
from storage.order import START, Log, Place

__all__ = ["Follower", "Lag", "Log", "Progress", "Projection", "Tracking", "View"]

log = logging.getLogger(__name__)

REBUILD_BATCH_SIZE = 2000
"""Events a rebuild applies in one transaction: what each transaction costs besides its rows
(reading the log, claiming, the reads before the writes, waiting for the last writes and for
the disk at commit) is paid four times less often than in batches of 500."""

Progress = Callable[[str, int, int], None]
"""Called as progress(projection name, position reached, head of the log) during long work."""


@dataclass(frozen=True)
class Lag:
    """How far a projection is behind the event log: the events it has yet to apply."""

    view: str
    position: int
    head: int
    behind: int


Ahead = tuple[Place, Batch]
"""A batch read ahead, with the place it starts after."""


class _Overtaken(Exception):
    """Another follower applied the batch first: this one's transaction rolls back."""


class Follower:
    """Applies new events from the application's log to each projection, in batches."""

    def __init__(
        self, app: Application[Any], projections: Sequence[Projection], *, batch_size: int = 500
    ) -> None:
        if not isinstance(app.recorder, Log):
            raise TypeError(f"{type(app.recorder).__name__} does not keep the log's order")
        self.app = app
        self.log: Log = app.recorder
        self.projections = list(projections)
        self.batch_size = batch_size
        self.db = ViewDatabase(app)
        self._stopping = threading.Event()
        self._woken = threading.Event()
        self._advanced = threading.Condition()
        self._thread: threading.Thread | None = None
        self._create_tables()

    def _create_tables(self) -> None:
        self.db.declare(statement for p in self.projections for statement in p.tables)
        with self.db.creating_tables() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS projection_tracking (view TEXT PRIMARY KEY, "
                "position BIGINT NOT NULL, tx BIGINT NOT NULL DEFAULT 0)"
            )
            for projection in self.projections:
                for statement in projection.tables:
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO projection_tracking (view, position, tx) VALUES (?, 0, 0) "
                    "ON CONFLICT (view) DO NOTHING",
                    (projection.name,),
                )

    def named(self, name: str) -> Projection:
        return next(p for p in self.projections if p.name == name)

    def head(self) -> int:
        """The highest position of any stored event."""
        return self.log.max_notification_id() or 0

    def place(self, projection: Projection | str) -> Place:
        """The place of the last event `projection` applied."""
        name = projection if isinstance(projection, str) else projection.name
        rows = self.db.query("SELECT tx, position FROM projection_tracking WHERE view = ?", (name,))
        return (int(rows[0]["tx"]), int(rows[0]["position"])) if rows else START

    def position(self, projection: Projection | str) -> int:
        """The position of the last event `projection` applied."""
        return self.place(projection)[1]

    def _places(self) -> dict[str, Place]:
        rows = self.db.query("SELECT view, tx, position FROM projection_tracking")
        found = {row["view"]: (int(row["tx"]), int(row["position"])) for row in rows}
        return {p.name: found.get(p.name, START) for p in self.projections}

    def lag(self) -> list[Lag]:
        head, places = self.head(), self._places()
        return [
            Lag(p.name, places[p.name][1], head, self.log.count_after(places[p.name]))
            for p in self.projections
        ]

    def catch_up(self, progress: Progress | None = None, *, batch_size: int | None = None) -> int:
        """Apply every event not yet applied, to every projection, `batch_size` events a
        transaction (the follower's own, if not given); returns how many events were applied
        (each counted once, however many projections it reached)."""
        applied, head = 0, self.head() if progress is not None else 0
        places: dict[str, Place] | None = None  # where the last batch left them, or read
        ahead: Ahead | None = None
        while True:
            done, places, ahead = self._apply_batch(batch_size or self.batch_size, places, ahead)
            if done == 0:
                break
            if done > 0:
                applied += done
                if progress is not None:
                    for projection in self.projections:
                        progress(projection.name, self.position(projection), head)
        return applied

    def _apply_batch(
        self, batch_size: int, places: dict[str, Place] | None, ahead: Ahead | None
    ) -> tuple[int, dict[str, Place] | None, Ahead | None]:
        """Apply the next batch to every projection behind, from `places` (read if not
        given: a stale one only makes the claim fail), or `ahead` if it starts there;
        returns how many events, or -1 if another follower was first, where the projections
        are now (None: unknown), and the next batch if it was read ahead.

        The events are read before the write transaction opens: holding a write connection
        while asking the pool for another one can deadlock against a concurrent writer. On
        PostgreSQL, the batch after a full one is read while the server finishes this one's
        writes: on a connection of its own, but the pool's wait for it is bounded.
        """
        places = places or self._places()
        start = min(places.values())
        if ahead is not None and ahead[0] == start and ahead[1]:
            batch = ahead[1]
        else:  # an empty read ahead may only have been blind to a write newer than its batch
            batch = self._read(start, batch_size)
        ahead = None
        if not batch:
            return 0, None, None
        end = batch[-1][0]
        for projection in self.projections:
            if not projection.in_transaction:
                self._process(projection, places[projection.name], batch, None)
        try:
            with self.db.transaction(immediate=True) as tx:
                self._claim(places, batch[-1][0], tx)  # the claims wait for the database:
                for projection in self.projections:  # so all of them go before any write,
                    projection.begin(tx)  # and so do the reads the projections need
                for projection in self.projections:
                    if projection.in_transaction:
                        self._process(projection, places[projection.name], batch, tx)
                        tx.send()  # the server works on them while the next one goes on
                if self.db.postgres and len(batch) == batch_size:  # more may follow
                    ahead = self._read_ahead(end, batch_size)
        except _Overtaken:
            return -1, None, ahead
        with self._advanced:
            self._advanced.notify_all()
        return len(batch), {name: max(place, end) for name, place in places.items()}, ahead

    def _read_ahead(self, start: Place, batch_size: int) -> Ahead | None:
        """The batch after `start`, if it can be read now; if not, it is read again once
        the batch before is in (a failure here must not undo that one)."""
        try:
            return start, self._read(start, batch_size)
        except Exception:
            log.debug("reading ahead failed; the batch is read again", exc_info=True)
            return None

    def _read(self, start: Place, batch_size: int) -> Batch:
        """Up to `batch_size` events after `start`, each decoded once, for every projection."""
        read = self.log.select_after(*start, batch_size)
        return [((tx, n.id), n, self.app.mapper.to_domain_event(n)) for tx, n in read]

    def _claim(self, places: dict[str, Place], end: Place, tx: Transaction) -> None:
        """Move each projection's place on to `end`, if it is still where `places` says:
        one statement for those at one place (all of them, but for one added later, which
        catches up first), their rows in the order of their names."""
        starts: dict[Place, list[str]] = {}
        for name in sorted(places):
            if places[name] < end:  # else already past this batch
                starts.setdefault(places[name], []).append(name)
        for start, names in starts.items():
            marks = ", ".join("?" for _ in names)
            tx.execute(
                "UPDATE projection_tracking SET tx = ?, position = ? "
                f"WHERE view IN ({marks}) AND tx = ? AND position = ?",
                (*end, *names, *start),
            )
            if tx.rowcount != len(names):
                raise _Overtaken

    def _process(
        self, projection: Projection, start: Place, batch: Batch, tx: Transaction | None
    ) -> None:
        projection.process_batch(batch, start, tx, self.app.name)

    def wait(self, position: int, *, projection: str, timeout: float) -> bool:
        """Block until `projection` has applied the event at `position` (and all the log
        before it), at most `timeout` seconds; returns whether it got there. A position no
        event holds (a write that rolled back) has nothing to wait for."""
        tx = self.log.tx_of(position)
        if tx is None:
            return position <= self.head()
        return self.wait_for((tx, position), projection=projection, timeout=timeout)

    def wait_for(self, place: Place, *, projection: str, timeout: float) -> bool:
        """Block until `projection` has applied the log up to `place`, at most `timeout`
        seconds; returns whether it got there."""
        deadline = time.monotonic() + timeout
        while self.place(projection) < place:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.wake()
            with self._advanced:
                self._advanced.wait(min(remaining, 0.05))
        return True

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty every read model (but its kept tables) and apply the whole log again; the
        emptied tables' indexes (but unique ones) are built again once they are filled. What
        goes only to kept tables is not made again up to where each projection had been.

        An index changes no answer, only how fast it comes: while the tables fill, a query
        reads them without one. If the process dies first, the next follower to start
        builds the indexes, as it builds any index missing."""
        indexes = {n: s for p in self.projections for n, s in p.rebuilt_indexes().items()}
        places = self._places()
        with self.db.creating_tables() as tx:
            for projection in self.projections:
                for table in projection.rebuilt_tables():
                    tx.execute(f"DELETE FROM {table}")
                tx.execute(
                    "UPDATE projection_tracking SET tx = 0, position = 0 WHERE view = ?",
                    (projection.name,),
                )
            for name in indexes:
                tx.execute(f"DROP INDEX IF EXISTS {name}")
        for projection in self.projections:
            projection.kept_through = places[projection.name] if projection.kept else START
        try:
            return self.catch_up(progress, batch_size=max(self.batch_size, REBUILD_BATCH_SIZE))
        finally:
            with self.db.creating_tables() as tx:
                for statement in indexes.values():
                    tx.execute(statement)

    def start(self, interval: float = 0.5) -> None:
        """Keep catching up in a background thread until `stop()`; `wake()` hurries it."""
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(interval,), daemon=True, name="projections"
        )
        self._thread.start()

    def wake(self) -> None:
        """Ask the background thread, if running, to look for new events now."""
        self._woken.set()

    def _loop(self, interval: float) -> None:
        while not self._stopping.is_set():
            self._woken.clear()
            try:
                self.catch_up()
            except Exception:
                log.exception("projection catch-up failed; retrying in %ss", interval)
            self._woken.wait(interval)

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
