"""The `protection-orders` command: serve, demo, token, rebuild, sweep, status."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from api.tokens import ALL_DISTRICTS, Tokens, User
from orders.clock import SimulatedClock
from orders.errors import DomainError
from orders.policy import PolicyFileError
from orders.values import Role
from service import serving
from service.bootstrap import Service, bootstrap
from service.demo import Demo
from service.integrity import export_bundle, verify_bundle, verify_store
from service.serving import Part
from service.settings import Settings, SettingsError
from service.work import checkpoint_now, detect_now, sweep_now

PARTS = tuple(part.value for part in Part)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _view_progress(view: str, position: int, head: int) -> None:
    _say(f"  {view}: {position}/{head} events")


def serve(service: Service, args: argparse.Namespace) -> None:
    """Run the API, the projection worker and the scheduler, or only the parts named."""
    parts = [Part(part) for part in args.only or PARTS]
    serving.serve(service, parts, host=args.host, port=args.port, say=_say)


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
        _say(f"done: {head} events stored in {settings.database_location()}")
    finally:
        service.close()


def rebuild(service: Service, args: argparse.Namespace) -> None:
    """Empty the read models and rebuild them from the whole event log."""
    _say(f"rebuilding read models from {service.views.head()} events ...")
    applied = service.views.rebuild(_view_progress)
    _say(f"done: {applied} event applications")


def sweep_once(service: Service, args: argparse.Namespace) -> None:
    """Run one scheduler sweep now and report what it recorded."""
    result = sweep_now(service)
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
        Tokens(settings.token_key.get_secret_value()).mint(
            user, now=datetime.now(tz=UTC), lifetime=timedelta(hours=args.hours)
        )
    )


def export(service: Service, args: argparse.Namespace) -> None:
    """Write an order's case bundle: events, timeline, inclusion proofs, checkpoint, key."""
    bundle = export_bundle(service.orders, service.timelines, UUID(args.order_id))
    text = json.dumps(bundle, indent=1)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        _say(f"wrote {len(bundle['events'])} events of order {args.order_id} to {args.out}")


def verify(args: argparse.Namespace) -> int:
    """Check a case bundle offline, with no database; say per event what holds."""
    findings = verify_bundle(json.loads(Path(args.bundle).read_text(encoding="utf-8")))
    for finding in findings:
        print(finding)
    failed = sum(not f.holds for f in findings)
    _say(f"{len(findings) - failed} hold, {failed} fail")
    return 1 if failed else 0


def audit(service: Service, args: argparse.Namespace) -> None:
    """Print the inspectors' (or districts') check-in record over a date range."""
    try:
        start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
        end = datetime.fromisoformat(args.end).replace(tzinfo=UTC)
    except ValueError:
        raise SystemExit("error: --from and --to must be dates such as 2026-10-01") from None
    rows = service.audit.report(
        start=start, end=end, by="inspector_id" if args.by == "inspector" else "district"
    )
    columns = (
        "group",
        "visits_due",
        "made_on_time",
        "made_late",
        "missed",
        "flagged",
        "median_delay_hours",
        "open_alerts",
    )
    print("\t".join(columns))
    for row in rows:
        print("\t".join("" if row[c] is None else str(row[c]) for c in columns))


def detect(service: Service, args: argparse.Namespace) -> None:
    """Run the falsification detectors over reports not yet examined."""
    _say(f"recorded {detect_now(service)} finding(s)")


def checkpoint(service: Service, args: argparse.Namespace) -> None:
    """Sign a checkpoint over the log now, if anything is new since the latest."""
    made = checkpoint_now(service)
    _say(
        f"checkpoint over {made.size} events signed at {made.signed_at}"
        if made
        else "nothing new since the latest checkpoint"
    )


def verify_store_command(service: Service, args: argparse.Namespace) -> None:
    """Check every stored event's seal and chain, and the log against the latest checkpoint."""
    findings = verify_store(service.orders)
    for finding in findings:
        if not finding.holds or args.all:
            print(finding)
    failed = sum(not f.holds for f in findings)
    _say(f"{len(findings) - failed} hold, {failed} fail")
    if failed:
        raise SystemExit(1)


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
    e = sub.add_parser("export", help="write an order's case bundle for a prosecutor")
    e.add_argument("order_id")
    e.add_argument("--out", default="-", help="file to write; default: standard output")
    v = sub.add_parser("verify", help="check a case bundle offline")
    v.add_argument("bundle")
    sub.add_parser("checkpoint", help="sign a checkpoint over the log now")
    sub.add_parser("detect", help="run the falsification detectors now")
    a = sub.add_parser("audit", help="inspectors' check-in record over a date range")
    a.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD (UTC)")
    a.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD (UTC), exclusive")
    a.add_argument("--by", choices=("inspector", "district"), default="inspector")
    vs = sub.add_parser("verify-store", help="check every event's seal and chain")
    vs.add_argument("--all", action="store_true", help="print what holds too")
    sub.add_parser("rebuild", help="rebuild the read models from zero")
    sub.add_parser("sweep", help="run one scheduler sweep now")
    sub.add_parser("status", help="show how far the read models lag the log")
    return p


COMMANDS = {
    "serve": serve,
    "rebuild": rebuild,
    "sweep": sweep_once,
    "status": status,
    "export": export,
    "checkpoint": checkpoint,
    "detect": detect,
    "audit": audit,
    "verify-store": verify_store_command,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "verify":
        return verify(args)  # offline: no settings, no database
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
    except DomainError as e:
        _say(f"error: {e}")
        return 1
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
