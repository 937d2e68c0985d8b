"""The sweep: find deadlines that have passed and record them on their orders."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from orders import errors
from orders.application import Orders
from orders.commands import AttendToDuties, Command, ExpireOrder, RecordMissedCheckIns
from orders.values import SYSTEM_ACTOR
from projections.deadlines import Deadlines
from projections.follower import Follower

log = logging.getLogger(__name__)

BATCH = 500
VIEW_WAIT_SECONDS = 10.0


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
    The deadlines view is read once it has reached the log's head (or the sweep's own writes).
    """
    now, missed, expired, alerted, failed = orders.now(), 0, 0, 0, 0
    reached = views.head()
    while True:
        if not views.wait(reached, projection="deadlines", timeout=VIEW_WAIT_SECONDS):
            log.warning("sweep: the deadlines view lags the log; sweeping what it shows")
        overdue = deadlines.check_ins_overdue(now, limit=BATCH)
        ending = deadlines.expiries_due(now, limit=BATCH)
        m, f1, p1 = _each(orders, overdue, RecordMissedCheckIns())
        e, f2, p2 = _each(orders, ending, ExpireOrder())
        lapsed = deadlines.duties_due(now, limit=BATCH)
        a, f3, p3 = _each(orders, lapsed, AttendToDuties())
        missed, expired, alerted = missed + m, expired + e, alerted + a
        failed += f1 + f2 + f3
        reached = max(reached, p1, p2, p3)
        batches = (overdue, ending, lapsed)
        if all(len(b) < BATCH for b in batches) or m + e + a == 0:
            break
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


def _each(orders: Orders, order_ids: list[UUID], command: Command) -> tuple[int, int, int]:
    """Give `command` to each order; returns how many events, failures, the last position."""
    done = failed = reached = 0
    for order_id in order_ids:
        try:
            outcome = orders.handle(command, order_id, by=SYSTEM_ACTOR)
        except errors.OrderNotDueToExpire:
            continue  # someone else expired it, or the view was stale: nothing to do
        except Exception:
            failed += 1
            log.exception("sweep failed on order %s; the next sweep will try again", order_id)
            continue
        if outcome.position is not None:
            done += int(outcome.returned) if isinstance(outcome.returned, int) else 1
            reached = max(reached, outcome.position)
    return done, failed, reached
