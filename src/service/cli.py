"""The `protection-orders` command line: run the service, fill it, check it, report on it.

Exit codes: 0 done; 1 a check found something that does not hold (`verify`, `verify-store`);
2 refused (a mistaken argument, a setting, a rule of the order's life, a locked database),
with one line on standard error saying what is wrong and what to do.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import typer

from api.tokens import ALL_DISTRICTS, Tokens, User
from orders.clock import SimulatedClock
from orders.values import Role
from service import arguments, evidence_cli, roles, serving, witness_cli
from service.demo import Demo
from service.refusals import Commands
from service.serving import Part
from service.session import caught_up, opened
from service.settings import PREFIX, Settings, SettingsError
from service.terminal import screen
from service.work import deliver_now, detect_now, sweep_now

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
    reuse_port: Annotated[
        bool,
        typer.Option(
            help="Share the port with other API processes started so (SO_REUSEPORT); "
            "the kernel spreads connections among them."
        ),
    ] = False,
) -> None:
    """Run the API, the projection worker and the scheduler; SIGTERM or Ctrl-C stops them."""
    if reuse_port and port == 0:
        raise typer.BadParameter("give the port the processes share", param_hint="--reuse-port")
    with opened() as service:
        serving.serve(
            service,
            only or list(Part),
            host=host,
            port=port,
            say=screen.say,
            reuse_port=reuse_port,
        )


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
    if hours > settings.token_max_hours:
        raise typer.BadParameter(
            f"must be at most {settings.token_max_hours:g} hours "
            f"({PREFIX}TOKEN_MAX_HOURS), not {hours:g}",
            param_hint="--hours",
        )
    tokens = Tokens(settings.token_key.get_secret_value(), max_lifetime=settings.token_max_lifetime)
    screen.result(tokens.mint(user, now=datetime.now(tz=UTC), lifetime=timedelta(hours=hours)))


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


@app.command()
def rebuild() -> None:
    """Empty the read models and rebuild them from the whole event log."""
    with opened() as service:
        screen.say(f"rebuilding read models from {service.views.head()} events ...")
        with screen.views_progress() as advance:
            applied = service.views.rebuild(advance)
    screen.say(f"done: {applied} event applications")


@app.command()
def migrate() -> None:
    """As the tables' owner (OWNER_DATABASE_URL), create the event store and grant the service."""
    settings = Settings()
    if settings.owner_database_url is None:
        raise SettingsError(
            f"{PREFIX}OWNER_DATABASE_URL is not set: migrate runs as the role that owns the "
            "tables (see docs/deployment.md)"
        )
    roles.migrate(settings)
    screen.say(
        "migrated as the owner; start the service with only DATABASE_URL and "
        f"{PREFIX}CREATE_TABLES=false"
    )


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
def deliver() -> None:
    """Send the notifications that are due now (e-mail, webhook), recording each attempt."""
    with opened() as service:
        report = deliver_now(caught_up(service))
    screen.say(str(report) or "nothing to deliver")


@app.command()
def status() -> None:
    """Print how far each read model lags the event log (it catches nothing up)."""
    with opened() as service:
        for lag in service.views.lag():
            screen.result(
                f"{lag.view}: position {lag.position} of {lag.head} ({lag.behind} behind)"
            )


app.command()(evidence_cli.export)
app.command()(evidence_cli.verify)
app.command("public-key")(evidence_cli.public_key)
app.command()(evidence_cli.checkpoint)
app.command("verify-store")(evidence_cli.verify_store_command)
app.add_typer(witness_cli.app, name="witness")


def main(argv: list[str] | None = None) -> int:
    """Run the command line on `argv` (default: the process's); return the exit code."""
    command = typer.main.get_command(app)
    code: int = command.main(argv, prog_name="protection-orders", standalone_mode=False)
    return code


if __name__ == "__main__":
    sys.exit(main())
