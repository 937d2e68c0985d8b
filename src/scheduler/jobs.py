"""APScheduler wiring: the sweep on an interval, never overlapping itself in one process."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from orders.application import Orders
from projections.deadlines import Deadlines
from projections.runner import ProjectionRunner
from scheduler.sweep import sweep


def start_scheduler(
    orders: Orders, views: ProjectionRunner, deadlines: Deadlines, *, every_seconds: float
) -> BackgroundScheduler:
    """Start a background scheduler that sweeps every `every_seconds`, first at once."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        sweep,
        "interval",
        args=(orders, views, deadlines),
        seconds=every_seconds,
        id="sweep",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(tz=UTC),
    )
    scheduler.start()
    return scheduler
