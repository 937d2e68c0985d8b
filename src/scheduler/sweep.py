"""The sweep: find deadlines that have passed and record them on their orders."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orders import errors
from orders.application import Orders, Outcome
from orders.commands import AttendToDuties, Command, ExpireOrder, RecordMissedCheckIns
from orders.values import SYSTEM_ACTOR
from projections.deadlines import Deadlines, Due
from projections.follower import Follower

log = logging.getLogger(__name__)

PAGE = 500  # orders read from the deadlines view at a time
PER_SAVE = 100  # orders whose decisions are saved in one transaction
VIEW_WAIT_SECONDS = 10.0

Query = Callable[..., list[Due]]  # one of Deadlines' queries: (now, limit=, after=)


@dataclass(frozen=True)
class SweepResult:
    """What one sweep recorded, and on how many orders it failed."""

    missed_check_ins: int
    expired: int
    failed: int = 0
    alerted: int = 0  # alerts raised and climbed, and notices, for lapsed duties


def sweep(orders: Orders, views: Follower, deadlines: Deadlines) -> SweepResult:
    """Record one CheckInMissed per overdue window and expire orders past validity.

    Safe to re-run and to run in several processes at once: each order decides for itself
    what is overdue, and a concurrent write makes the loser decide again, so no alert is raised
    twice. A sweep after downtime raises every window missed meanwhile, each with its due time.
    One order that fails is logged and skipped; it never holds back the others' alerts.
    The deadlines view is read once it has reached the log's head (no wait when it is there);
    with nothing due, that and one look at the view's indexes are all a sweep costs.
    """
    now = orders.now()
    if not views.wait(views.head(), projection="deadlines", timeout=VIEW_WAIT_SECONDS):
        log.warning("sweep: the deadlines view lags the log; sweeping what it shows")
    if not deadlines.anything_due(now):
        return SweepResult(0, 0)
    missing = RecordMissedCheckIns()
    missed, f1, attended = _through(orders, deadlines.check_ins_overdue, now, missing)
    expired, f2, _ = _through(orders, deadlines.expiries_due, now, ExpireOrder())
    # An order that recorded its missed check-ins attended to its duties then, as of now.
    alerted, f3, _ = _through(orders, deadlines.duties_due, now, AttendToDuties(), attended)
    failed = f1 + f2 + f3
    if missed or expired or alerted or failed:
        log.info(
            "sweep recorded %d missed check-in(s), %d expiry(ies), %d alert step(s); "
            "%d order(s) failed",
            missed,
            expired,
            alerted,
            failed,
        )
    return SweepResult(missed, expired, failed, alerted)


def _through(
    orders: Orders, query: Query, now: datetime, command: Command, done: Collection[UUID] = ()
) -> tuple[int, int, set[UUID]]:
    """Give `command` to every order `query` finds due but those `done` already, a page at a
    time, many orders saved together; returns how many events it recorded, on how many orders
    it failed, and the orders it did not fail on."""
    recorded = failed = 0
    handled: set[UUID] = set()
    after: Due | None = None
    while page := query(now, limit=PAGE, after=after):
        order_ids = [due.order_id for due in page if due.order_id not in done]
        outcomes = orders.handle_each(command, order_ids, by=SYSTEM_ACTOR, per_save=PER_SAVE)
        for order_id, outcome in zip(order_ids, outcomes, strict=True):
            events = _recorded(order_id, outcome)
            recorded, failed = recorded + max(events, 0), failed + (events < 0)
            if events >= 0:
                handled.add(order_id)
        if len(page) < PAGE:
            break
        after = page[-1]
    return recorded, failed, handled


def _recorded(order_id: UUID, outcome: Outcome | Exception) -> int:
    """How many events one order's outcome recorded; -1 if it failed (and is logged)."""
    if isinstance(outcome, errors.OrderNotDueToExpire):
        return 0  # someone else expired it, or the view was stale: nothing to do
    if isinstance(outcome, Exception):
        log.error(
            "sweep failed on order %s; the next sweep will try again",
            order_id,
            exc_info=outcome,
        )
        return -1
    if outcome.position is None:
        return 0
    return outcome.returned if isinstance(outcome.returned, int) else 1
