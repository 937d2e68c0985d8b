"""Running the service's parts until SIGTERM or Ctrl-C, then stopping each one cleanly.

uvicorn handles SIGTERM itself while it serves, then restores the handler it found and
raises the signal again; ours is that handler, so the signal ends in a clean stop (the
scheduler's running jobs finish, the projection worker stops) and the process exits 0.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.jobs import start_scheduler
from service.bootstrap import Service
from service.work import jobs

if TYPE_CHECKING:
    import uvicorn

STOPPING_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Part(StrEnum):
    """A part of the service that `serve` runs; any number of each may share one database."""

    API = "api"
    PROJECTIONS = "projections"
    SCHEDULER = "scheduler"


def serve(
    service: Service,
    parts: Iterable[Part],
    *,
    host: str,
    port: int,
    say: Callable[[str], None],
    reuse_port: bool = False,
) -> None:
    """Run the parts until a stopping signal; return once every part has stopped. With
    `reuse_port`, the API shares its port with other processes that serve with it too."""
    parts = set(parts)
    server = _api_server(service, host, port) if Part.API in parts else None
    sockets = [shared_socket(host, port)] if server is not None and reuse_port else None
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        if server is not None:
            server.should_exit = True  # in case uvicorn had not yet taken the signal over

    with _handling(STOPPING_SIGNALS, stop), _running(service, parts, say):
        if server is not None:
            say(f"serving on http://{host}:{port} (OpenAPI at /docs); SIGTERM or Ctrl-C stops")
            server.run(sockets)
        else:
            say(f"running {', '.join(sorted(parts))}; SIGTERM or Ctrl-C stops")
            stopping.wait()
    say("stopped")


@contextmanager
def _running(service: Service, parts: set[Part], say: Callable[[str], None]) -> Iterator[None]:
    """The projection worker and the scheduler, if named, running until the block ends."""
    scheduler: BackgroundScheduler | None = None
    try:
        if Part.PROJECTIONS in parts:
            service.views.start(service.settings.projection_poll_seconds)
        if Part.SCHEDULER in parts:
            scheduler = start_scheduler(
                service.orders,
                service.views,
                service.deadlines,
                every_seconds=service.settings.sweep_seconds,
                jobs=jobs(service),
            )
        yield
    finally:
        if scheduler is not None:
            say("stopping the scheduler (running jobs finish first) ...")
            scheduler.shutdown(wait=True)
        service.views.stop()


@contextmanager
def _handling(
    signals: Iterable[signal.Signals], handler: Callable[[int, FrameType | None], None]
) -> Iterator[None]:
    previous = {number: signal.signal(number, handler) for number in signals}
    try:
        yield
    finally:
        for number, before in previous.items():
            signal.signal(number, before)


def shared_socket(host: str, port: int) -> socket.socket:
    """A socket bound to the port with SO_REUSEPORT: every process of the same user that binds
    it so listens on the same port, and the kernel spreads new connections among them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listening.bind((host, port))
    return listening


def _api_server(service: Service, host: str, port: int) -> uvicorn.Server:
    """uvicorn on h11, whose limits are the ones checked here (decision 020): a request head
    of at most 16 KiB, each request read whole within the setting's seconds, idle connections
    closed after 5 s, and past the setting's connections a 503."""
    import uvicorn  # the web stack is loaded only when the API is served

    from api.app import create_app
    from service.http_protocol import MAX_HEAD_BYTES, protocol

    settings = service.settings
    config = uvicorn.Config(
        create_app(service.orders, service.queries, service.tokens),
        host=host,
        port=port,
        http=protocol(request_seconds=settings.http_request_seconds),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=5,
        limit_concurrency=settings.http_max_connections,
        log_level="info",
        log_config=None,
    )
    return uvicorn.Server(config)
