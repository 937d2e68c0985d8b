"""The scheduler's logs: quiet while nothing happens; what happened and what failed, by name."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from orders.clock import SimulatedClock
from orders.values import OrderKind
from scheduler.jobs import Job, start_scheduler
from service.bootstrap import Service
from service.work import jobs
from tests.integration.helpers import issued_order


def test_the_scheduler_logs_what_its_jobs_did_and_how_one_failed_each_by_name(
    service: Service, clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    issued_order(service.orders, kind=OrderKind.COURT)  # three events, nothing to detect
    clock.advance(timedelta(days=8))  # the first weekly check-in is missed

    def unreachable() -> str:
        raise ConnectionError("the mail server does not answer")

    service.views.start(interval=0.05)  # the follower, beside the scheduler as in serve

    scheduler = start_scheduler(
        service.orders,
        service.views,
        service.deadlines,
        every_seconds=60,
        jobs=[*jobs(service), Job("notify", unreachable, 60)],
    )
    try:
        deadline = time.monotonic() + 10
        while len(caplog.records) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
        service.views.stop()

    said = [(r.levelname, r.name, r.getMessage()) for r in caplog.records]
    assert len(said) == 3, said  # no "Running job", "executed successfully", "Added job" lines
    assert (
        "INFO",
        "scheduler.sweep",
        "sweep recorded 1 missed check-in(s), 0 expiry(ies), 0 alert step(s); 0 order(s) failed",
    ) in said
    assert any(
        (level, name) == ("INFO", "scheduler.jobs")
        and message.startswith("checkpoint: signed a checkpoint over ")
        for level, name, message in said
    )
    assert any(
        level == "ERROR" and message.startswith('Job "notify (trigger: interval')
        for level, _, message in said
    )  # with its traceback; the detectors found nothing, so they said nothing
