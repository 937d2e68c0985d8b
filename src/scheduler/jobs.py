"""APScheduler wiring: the sweep, and signed checkpoints, on intervals; never overlapping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from orders.application import Orders
from projections.deadlines import Deadlines
from projections.runner import ProjectionRunner
from scheduler.sweep import sweep


def start_scheduler(
    orders: Orders,
    views: ProjectionRunner,
    deadlines: Deadlines,
    *,
    every_seconds: float,
    checkpoint: Callable[[], object] | None = None,
    checkpoint_seconds: float = 300.0,
) -> BackgroundScheduler:
    """Start a background scheduler: the sweep every `every_seconds` (first at once), and
    `checkpoint` every `checkpoint_seconds` if given."""
    scheduler = BackgroundScheduler(timezone="UTC")
    once = {"max_instances": 1, "coalesce": True, "next_run_time": datetime.now(tz=UTC)}
    scheduler.add_job(
        sweep,
        "interval",
        args=(orders, views, deadlines),
        seconds=every_seconds,
        id="sweep",
        **once,
    )
    if checkpoint is not None:
        scheduler.add_job(
            checkpoint, "interval", seconds=checkpoint_seconds, id="checkpoint", **once
        )
    scheduler.start()
    return scheduler
