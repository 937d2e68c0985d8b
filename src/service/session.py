"""The service opened for one command of the command line, its read models caught up on demand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from orders.clock import Clock, system_clock
from service.bootstrap import Service, bootstrap
from service.settings import Settings
from service.terminal import screen


@contextmanager
def opened(*, clock: Clock = system_clock) -> Iterator[Service]:
    """The service on the configured database, closed when the command ends."""
    service = bootstrap(Settings.from_env(), clock=clock)
    try:
        yield service
    finally:
        service.close()


def caught_up(service: Service) -> Service:
    """The service, its read models first brought up to the log's head (a bar per model)."""
    with screen.views_progress() as advance:
        service.views.catch_up(advance)
    return service
