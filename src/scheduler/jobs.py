"""APScheduler wiring: the sweep and other periodic jobs, each never overlapping itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from orders.application import Orders
from projections.deadlines import Deadlines
from projections.follower import Follower
from scheduler.sweep import sweep

Job = tuple[str, Callable[[], object], float]
"""A periodic job: its name, what it runs, and every how many seconds."""


def start_scheduler(
    orders: Orders,
    views: Follower,
    deadlines: Deadlines,
    *,
    every_seconds: float,
    jobs: Sequence[Job] = (),
) -> BackgroundScheduler:
    """Start a background scheduler: the sweep every `every_seconds` and each extra job on
    its own interval, all first at once."""
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
    for name, run, seconds in jobs:
        scheduler.add_job(run, "interval", seconds=seconds, id=name, **once)
    scheduler.start()
    return scheduler
