"""The `protection-orders` command: serve, demo, token, rebuild, sweep, status."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta

from api.tokens import ALL_DISTRICTS, Tokens, User
from orders.clock import SimulatedClock
from orders.policy import PolicyFileError
from orders.values import Role
from scheduler.jobs import start_scheduler
from scheduler.sweep import sweep
from service.bootstrap import Service, bootstrap
from service.demo import Demo
from service.settings import Settings, SettingsError

PARTS = ("api", "projections", "scheduler")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _view_progress(view: str, position: int, head: int) -> None:
    _say(f"  {view}: {position}/{head} events")


def serve(service: Service, args: argparse.Namespace) -> None:
    """Run the API, the projection worker and the scheduler, or only the parts named."""
    parts = set(args.only or PARTS)
    if "projections" in parts:
        service.views.start(service.settings.projection_poll_seconds)
    scheduler = None
    if "scheduler" in parts:
        scheduler = start_scheduler(
            service.orders,
            service.views,
            service.deadlines,
            every_seconds=service.settings.sweep_seconds,
        )
    try:
        if "api" in parts:
            import uvicorn

            from api.app import create_app

            _say(f"serving on http://{args.host}:{args.port} (OpenAPI at /docs)")
            uvicorn.run(create_app(service), host=args.host, port=args.port, log_level="info")
        else:
            _say(f"running {', '.join(sorted(parts))}; Ctrl-C stops")
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)


def demo(settings: Settings, args: argparse.Namespace) -> None:
    """Fill the store with a realistic data set of `--orders` orders over sixty days."""
    now = datetime.now(tz=UTC)
    clock = SimulatedClock(now)
    service = bootstrap(settings, clock=clock)
    try:
        _say(f"replaying sixty days of work for {args.orders} orders ...")
        Demo(service, clock, count=args.orders, seed=args.seed).run(
            now, lambda done, total: _say(f"  {done}/{total} steps")
        )
        head = service.views.head()
        _say(f"done: {head} events stored in {settings.database_url}")
    finally:
        service.close()


def rebuild(service: Service, args: argparse.Namespace) -> None:
    """Empty the read models and rebuild them from the whole event log."""
    _say(f"rebuilding read models from {service.views.head()} events ...")
    applied = service.views.rebuild(_view_progress)
    _say(f"done: {applied} event applications")


def sweep_once(service: Service, args: argparse.Namespace) -> None:
    """Run one scheduler sweep now and report what it recorded."""
    result = sweep(service.orders, service.views, service.deadlines)
    _say(
        f"recorded {result.missed_check_ins} missed check-in(s) and {result.expired} "
        f"expiry(ies); {result.failed} order(s) failed"
    )


def status(service: Service, args: argparse.Namespace) -> None:
    """Print how far each read model lags the event log."""
    for lag in service.views.lag():
        print(f"{lag.view}: position {lag.position} of {lag.head} ({lag.behind} behind)")


def token(settings: Settings, args: argparse.Namespace) -> None:
    """Print a signed token for development: a role, its districts, a lifetime."""
    if settings.production:
        raise SettingsError(
            "tokens are minted by the identity provider in production, not by this command"
        )
    user = User(
        id=args.sub or f"dev-{args.role}",
        role=Role(args.role),
        districts=frozenset(args.district or [ALL_DISTRICTS]),
    )
    print(
        Tokens(settings.token_key).mint(
            user, now=datetime.now(tz=UTC), lifetime=timedelta(hours=args.hours)
        )
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="protection-orders", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the API, projections and scheduler")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeatable); default: all three",
    )
    d = sub.add_parser("demo", help="fill the store with a realistic data set")
    d.add_argument("--orders", type=int, default=300)
    d.add_argument("--seed", type=int, default=7)
    t = sub.add_parser("token", help="mint a bearer token for development")
    t.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM])
    t.add_argument("--district", action="append", help="repeatable; default: all districts (*)")
    t.add_argument("--sub", help="the account id; default: dev-ROLE")
    t.add_argument("--hours", type=float, default=12.0)
    sub.add_parser("rebuild", help="rebuild the read models from zero")
    sub.add_parser("sweep", help="run one scheduler sweep now")
    sub.add_parser("status", help="show how far the read models lag the log")
    return p


COMMANDS = {"serve": serve, "rebuild": rebuild, "sweep": sweep_once, "status": status}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        if args.command in ("demo", "token"):
            {"demo": demo, "token": token}[args.command](settings, args)
            return 0
        service = bootstrap(settings)
    except (SettingsError, PolicyFileError) as e:
        _say(f"error: {e}")
        return 2
    try:
        service.views.catch_up(_view_progress)
        COMMANDS[args.command](service, args)
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
