"""The `protection-orders` command line: run the service, fill it, check it, report on it.

Exit codes: 0 done; 1 a check found something that does not hold (`verify`, `verify-store`);
2 refused (a mistaken argument, a setting, a rule of the order's life, a locked database),
with one line on standard error saying what is wrong and what to do.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

import typer

from api.tokens import ALL_DISTRICTS, Tokens, User
from orders.clock import Clock, SimulatedClock, system_clock
from orders.values import Role
from service import arguments, serving
from service.bootstrap import Service, bootstrap
from service.demo import Demo
from service.integrity import Finding, export_bundle, verify_bundle, verify_store
from service.refusals import Commands
from service.serving import Part
from service.settings import Settings, SettingsError
from service.terminal import screen
from service.work import checkpoint_now, detect_now, sweep_now

AUDIT_COLUMNS = (
    "group",
    "visits_due",
    "made_on_time",
    "made_late",
    "missed",
    "flagged",
    "median_delay_hours",
    "open_alerts",
)


app = typer.Typer(
    name="protection-orders",
    help=(
        "Run the protection-orders service, fill it, check it, report on it.\n\n"
        "Exit codes: 0 done; 1 a check found something that does not hold; "
        "2 refused, with one line saying what is wrong and what to do."
    ),
    cls=Commands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# The service, opened for one command.


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


# The commands.


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="The address the API listens on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="The port the API listens on (0: any free).")
    ] = 8000,
    only: Annotated[
        list[Part] | None,
        typer.Option(help="Run only this part (repeatable); default: all three."),
    ] = None,
) -> None:
    """Run the API, the projection worker and the scheduler; SIGTERM or Ctrl-C stops them."""
    with opened() as service:
        serving.serve(service, only or list(Part), host=host, port=port, say=screen.say)


@app.command()
def demo(
    orders: Annotated[
        int,
        typer.Option(callback=arguments.at_least_one, help="How many orders to open (at least 1)."),
    ] = 300,
    seed: Annotated[int, typer.Option(help="The random seed: one seed, one data set.")] = 7,
) -> None:
    """Fill the store with sixty days of realistic work, some orders overdue."""
    now = datetime.now(tz=UTC)
    clock = SimulatedClock(now)
    with opened(clock=clock) as service:
        screen.say(f"replaying sixty days of work for {orders} orders ...")
        with screen.steps_progress("sixty days of work") as advance:
            Demo(service, clock, count=orders, seed=seed).run(now, advance)
        location = service.settings.database_location()
        screen.say(f"done: {service.views.head()} events stored in {location}")


@app.command()
def token(
    role: Annotated[
        Role,
        typer.Option(
            parser=arguments.person_role,
            metavar="ROLE",
            help=f"The role the token carries: {', '.join(arguments.PERSON_ROLES)}.",
        ),
    ],
    district: Annotated[
        list[str] | None,
        typer.Option(help="A district it may act in (repeatable); default: all (*)."),
    ] = None,
    sub: Annotated[str | None, typer.Option(help="The account id; default: dev-ROLE.")] = None,
    hours: Annotated[
        float, typer.Option(callback=arguments.positive_hours, help="How long the token is valid.")
    ] = 12.0,
) -> None:
    """Print a signed bearer token for development (production tokens come from elsewhere)."""
    settings = Settings.from_env()
    if settings.production:
        raise SettingsError(
            "tokens are minted by the identity provider in production, not by this command"
        )
    user = User(
        id=sub or f"dev-{role}", role=role, districts=frozenset(district or [ALL_DISTRICTS])
    )
    tokens = Tokens(settings.token_key.get_secret_value())
    screen.result(tokens.mint(user, now=datetime.now(tz=UTC), lifetime=timedelta(hours=hours)))


@app.command()
def export(
    order_id: Annotated[
        UUID, typer.Argument(parser=arguments.order_id, metavar="ORDER_ID", help="The order's id.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            callback=arguments.in_a_folder, help="The file to write; - for standard output."
        ),
    ] = Path("-"),
) -> None:
    """Write an order's case bundle for a prosecutor: events, timeline, proofs, checkpoint."""
    with opened() as service:
        bundle = export_bundle(service.orders, caught_up(service).timelines, order_id)
    text = json.dumps(bundle, indent=1)
    if str(out) == "-":
        screen.result(text)
    else:
        out.write_text(text, encoding="utf-8")
        screen.say(f"wrote {len(bundle['events'])} events of order {order_id} to {out}")


@app.command()
def verify(
    bundle: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            metavar="BUNDLE",
            readable=True,
            help="A case bundle written by `export`.",
        ),
    ],
) -> None:
    """Check a case bundle offline, with no database; say per event what holds."""
    try:
        findings = verify_bundle(json.loads(bundle.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise typer.BadParameter(
            f"{bundle} cannot be read as a case bundle ({type(e).__name__}); "
            "ask for the file `protection-orders export` wrote",
            param_hint="BUNDLE",
        ) from None
    for finding in findings:
        screen.result(str(finding), style=None if finding.holds else "bold red")
    _tally(findings)


@app.command()
def checkpoint() -> None:
    """Sign a checkpoint over the log now, if anything is new since the latest."""
    with opened() as service:
        made = checkpoint_now(service)
    screen.say(
        f"checkpoint over {made.size} events signed at {made.signed_at}"
        if made
        else "nothing new since the latest checkpoint"
    )


@app.command()
def detect() -> None:
    """Run the falsification detectors over visit reports not yet examined."""
    with opened() as service:
        screen.say(f"recorded {detect_now(caught_up(service))} finding(s)")


@app.command()
def audit(
    start: Annotated[
        datetime,
        typer.Option(
            "--from", parser=arguments.day, metavar="YYYY-MM-DD", help="The first day (UTC)."
        ),
    ],
    end: Annotated[
        datetime,
        typer.Option(
            "--to", parser=arguments.day, metavar="YYYY-MM-DD", help="The day after the last (UTC)."
        ),
    ],
    by: Annotated[
        Literal["inspector", "district"], typer.Option(help="One row per inspector or district.")
    ] = "inspector",
) -> None:
    """Print the inspectors' (or districts') check-in record over a range of days, as TSV."""
    if end <= start:
        raise typer.BadParameter(
            f"--to {end:%Y-%m-%d} must come after --from {start:%Y-%m-%d}; swap or widen them",
            param_hint="--from/--to",
        )
    with opened() as service:
        rows = caught_up(service).audit.report(
            start=start, end=end, by="inspector_id" if by == "inspector" else "district"
        )
    screen.result("\t".join(AUDIT_COLUMNS))
    for row in rows:
        screen.result("\t".join("" if row[c] is None else str(row[c]) for c in AUDIT_COLUMNS))


@app.command("verify-store")
def verify_store_command(
    show_all: Annotated[
        bool, typer.Option("--all", help="Print what holds too, not only what fails.")
    ] = False,
) -> None:
    """Check every stored event's seal and chain, and the log against the latest checkpoint."""
    with opened() as service, screen.working("checking every event's seal and chain"):
        findings = verify_store(service.orders)
    for finding in findings:
        if show_all or not finding.holds:
            screen.result(str(finding), style=None if finding.holds else "bold red")
    _tally(findings)


@app.command()
def rebuild() -> None:
    """Empty the read models and rebuild them from the whole event log."""
    with opened() as service:
        screen.say(f"rebuilding read models from {service.views.head()} events ...")
        with screen.views_progress() as advance:
            applied = service.views.rebuild(advance)
    screen.say(f"done: {applied} event applications")


@app.command()
def sweep() -> None:
    """Run one scheduler sweep now: missed check-ins and expiries that are due."""
    with opened() as service:
        result = sweep_now(caught_up(service))
    screen.say(
        f"recorded {result.missed_check_ins} missed check-in(s) and {result.expired} "
        f"expiry(ies); {result.failed} order(s) failed"
    )


@app.command()
def status() -> None:
    """Print how far each read model lags the event log (it catches nothing up)."""
    with opened() as service:
        for lag in service.views.lag():
            screen.result(
                f"{lag.view}: position {lag.position} of {lag.head} ({lag.behind} behind)"
            )


def _tally(findings: Sequence[Finding]) -> None:
    """Say how many checks hold and fail; exit 1 if any fails."""
    failed = sum(not f.holds for f in findings)
    screen.say(f"{len(findings) - failed} hold, {failed} fail")
    if failed:
        raise typer.Exit(1)


def main(argv: list[str] | None = None) -> int:
    """Run the command line on `argv` (default: the process's); return the exit code."""
    command = typer.main.get_command(app)
    code: int = command.main(argv, prog_name="protection-orders", standalone_mode=False)
    return code


if __name__ == "__main__":
    sys.exit(main())
