"""The sweep: find deadlines that have passed and record them on their orders."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from orders.application import Orders
from projections.deadlines import Deadlines
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    """What one sweep recorded, and on how many orders it failed."""

    missed_check_ins: int
    expired: int
    failed: int = 0


def sweep(orders: Orders, views: ProjectionRunner, deadlines: Deadlines) -> SweepResult:
    """Record one CheckInMissed per overdue window and expire orders past validity.

    Safe to re-run and to run in several processes at once: each order decides for itself
    what is overdue, and a concurrent write makes the loser look again, so no alert is raised
    twice. A sweep after downtime raises every window missed meanwhile, each with its due time.
    One order that fails is logged and skipped; it never holds back the others' alerts.
    """
    now, missed, expired, failed = orders.now(), 0, 0, 0
    while True:
        views.catch_up()
        overdue = deadlines.check_ins_overdue(now, limit=BATCH)
        ending = deadlines.expiries_due(now, limit=BATCH)
        m, f1 = _each(overdue, orders.raise_missed_check_ins)
        e, f2 = _each(ending, lambda order_id: int(orders.expire_if_due(order_id)))
        missed, expired, failed = missed + m, expired + e, failed + f1 + f2
        if (len(overdue) < BATCH and len(ending) < BATCH) or m + e == 0:
            break
    views.catch_up()
    if missed or expired or failed:
        log.info(
            "sweep recorded %d missed check-in(s), %d expiry(ies); %d order(s) failed",
            missed,
            expired,
            failed,
        )
    return SweepResult(missed, expired, failed)


def _each(order_ids: list[UUID], record: Callable[[UUID], int]) -> tuple[int, int]:
    done = failed = 0
    for order_id in order_ids:
        try:
            done += record(order_id)
        except Exception:
            failed += 1
            log.exception("sweep failed on order %s; the next sweep will try again", order_id)
    return done, failed
