"""Keeps read models up to date with the event log, each event applied exactly once.

A view's rows and its position in the log are written in one transaction, which first moves
the position on only if it is still where the batch started. A crash loses nothing, and two
runners (threads, processes, hosts) never apply the same event twice: the second one's claim
waits for the first to commit, then finds the position moved and reads again.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application

from projections.database import Transaction, ViewDatabase

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as progress(view name, position reached, head of the log) during long work."""


class View(ABC):
    """A read model: its tables, and how each event changes its rows."""

    name: str
    tables: Sequence[str]
    """CREATE TABLE / CREATE INDEX statements, each IF NOT EXISTS, portable SQL."""
    accepts: tuple[type, ...] = (object,)
    """The event classes this view reads; others pass by it."""

    @abstractmethod
    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        """Change the view's rows for one event at `position` in the log."""

    def table_names(self) -> list[str]:
        return [s.split()[5] for s in self.tables if s.startswith("CREATE TABLE IF NOT EXISTS")]


@dataclass(frozen=True)
class Lag:
    """How far a view is behind the event log."""

    view: str
    position: int
    head: int

    @property
    def behind(self) -> int:
        return self.head - self.position


class ProjectionRunner:
    """Applies new events from the application's log to each view, in batches."""

    def __init__(self, app: Application[Any], views: Sequence[View], *, batch_size: int = 500):
        self.app = app
        self.views = list(views)
        self.batch_size = batch_size
        self.db = ViewDatabase(app)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._create_tables()

    def _create_tables(self) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS projection_tracking "
                "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            for view in self.views:
                for statement in view.tables:
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO projection_tracking (view, position) VALUES (?, 0) "
                    "ON CONFLICT (view) DO NOTHING",
                    (view.name,),
                )

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def position(self, view: View) -> int:
        rows = self.db.query(
            "SELECT position FROM projection_tracking WHERE view = ?", (view.name,)
        )
        return int(rows[0]["position"])

    def lag(self) -> list[Lag]:
        head = self.head()
        return [Lag(view.name, self.position(view), head) for view in self.views]

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply every event not yet applied, to every view; returns how many were applied."""
        applied = 0
        for view in self.views:
            head = self.head()
            while (done := self._apply_batch(view)) != 0:
                if done > 0:
                    applied += done
                    if progress is not None:
                        progress(view.name, self.position(view), head)
        return applied

    def _apply_batch(self, view: View) -> int:
        """Apply the next batch; returns how many events, or -1 if another runner was first.

        The events are read before the write transaction opens: holding a write connection
        while asking the pool for another one can deadlock against a concurrent writer.
        """
        start = self.position(view)
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        with self.db.transaction() as tx:
            # Claim the batch: only a runner that still sees `start` moves the position on.
            tx.execute(
                "UPDATE projection_tracking SET position = ? WHERE view = ? AND position = ?",
                (notifications[-1].id, view.name, start),
            )
            if tx.rowcount != 1:
                return -1
            for notification in notifications:
                event = self.app.mapper.to_domain_event(notification)
                if isinstance(event, view.accepts):
                    view.apply(event, notification.id, tx)
        return len(notifications)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty every view and apply the whole log again."""
        with self.db.transaction() as tx:
            for view in self.views:
                for table in view.table_names():
                    tx.execute(f"DELETE FROM {table}")
                tx.execute(
                    "UPDATE projection_tracking SET position = 0 WHERE view = ?", (view.name,)
                )
        return self.catch_up(progress)

    def start(self, interval: float = 0.5) -> None:
        """Keep catching up in a background thread until `stop()`."""
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(interval,), daemon=True, name="projections"
        )
        self._thread.start()

    def _loop(self, interval: float) -> None:
        while not self._stopping.is_set():
            try:
                self.catch_up()
            except Exception:
                log.exception("projection catch-up failed; retrying in %ss", interval)
            self._stopping.wait(interval)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
