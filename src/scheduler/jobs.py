"""APScheduler wiring: the sweep and other periodic jobs, each never overlapping itself.

Logs name the job and stay quiet unless something happens: APScheduler's own INFO lines
("Running job", "executed successfully") are left out; a job's failure is logged by
APScheduler at ERROR under the job's name, and a job that did something says what under
its name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from apscheduler.schedulers.background import BackgroundScheduler

from orders.application import Orders
from projections.deadlines import Deadlines
from projections.follower import Follower
from scheduler.sweep import sweep

log = logging.getLogger(__name__)

ROUTINE = ("apscheduler.scheduler", "apscheduler.executors")
"""APScheduler's loggers, which say at INFO that every job ran: kept to WARNING and above."""


class Job(NamedTuple):
    """A periodic job: its name, what it runs, and every how many seconds.

    What `run` returns, if a non-empty string, is logged under the job's name: return a
    sentence when the job did something, and "" when there was nothing to do.
    """

    name: str
    run: Callable[[], object]
    every_seconds: float


def start_scheduler(
    orders: Orders,
    views: Follower,
    deadlines: Deadlines,
    *,
    every_seconds: float,
    jobs: Sequence[Job | tuple[str, Callable[[], object], float]] = (),
) -> BackgroundScheduler:
    """Start a background scheduler: the sweep every `every_seconds` and each extra job on
    its own interval, all first at once."""
    for name in ROUTINE:
        logging.getLogger(name).setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(timezone="UTC")
    once = {"max_instances": 1, "coalesce": True, "next_run_time": datetime.now(tz=UTC)}
    scheduler.add_job(
        sweep,
        "interval",
        args=(orders, views, deadlines),
        seconds=every_seconds,
        id="sweep",
        name="sweep",
        **once,
    )
    for name, run, seconds in jobs:
        scheduler.add_job(
            _saying(name, run), "interval", seconds=seconds, id=name, name=name, **once
        )
    scheduler.start()
    return scheduler


def _saying(name: str, run: Callable[[], object]) -> Callable[[], None]:
    """The job as scheduled: logs what it did under its name, nothing when it did nothing."""

    def job() -> None:
        done = run()
        if isinstance(done, str) and done:
            log.info("%s: %s", name, done)

    return job
