"""The cost of tamper evidence: sealing and checkpoints as a share of the append rate (goal:
under 5%), and the export and verify of a case of 1,000 events (goal: verify under 1 s).

    .venv/bin/python -m bench.integrity [--engine sqlite|postgres|both] [--n 1000] [--case 1000]

Appends: the same commands on fresh stores of one engine, alternately with sealing off and on,
`--rounds` times each; the medians are compared. Sealing off is the service as built, with its
recorder's `sealing` set to None: it writes no seal (and looks up no previous digest), and
does everything else as before. On a shared machine those rates are noisy, so the time spent
inside the recorder's sealing (`storage.sealing.seals`, timed by a wrapper while sealing
is on) is given too: that is the cost without the noise, but without the larger commit.
Checkpoints: the time `make_checkpoint` takes (verify the whole log, then sign) on the store
as it stands, spread over the events the default cadence puts between two (1,000, or fewer
when 60 s pass first); the log grows to `--log` events, a checkpoint signed after each 1,000
as the default cadence would. Each verifies the whole log and re-checks every checkpoint
before it, so its cost grows with the log: the table gives each one's time and the budget a
checkpoint has for the goal.
PostgreSQL: a throwaway cluster with fsync and synchronous commits on, or the server named by
PROTECTION_ORDERS_TEST_POSTGRES_URL (its settings are printed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventsourcing.persistence import StoredEvent
from tests.factories import (
    INSPECTOR,
    SOCIAL_WORKER,
    a_visit_command,
    an_assessment,
    issue_order,
    request_order,
)

from bench.durable import durable_postgres, on_engines
from orders.clock import SimulatedClock
from orders.commands import Context
from orders.records import Sealing
from service.bootstrap import Service, bootstrap
from service.bundles import export_bundle
from service.checkpoints import make_checkpoint
from service.settings import Settings
from service.verification import verify_bundle
from storage import sealing
from storage.records import SealedRecords

GOAL_SHARE = 0.05
GOAL_VERIFY_SECONDS = 1.0


@dataclass(frozen=True)
class Appends:
    """Commands per second (each appends one event): opening orders, recording visits; and
    the seconds spent inside the sealing, per event (0 with sealing off)."""

    open: float
    visit: float
    sealing: float = 0.0


@dataclass(frozen=True)
class Checkpoint:
    log: int
    seconds: float


@dataclass(frozen=True)
class Case:
    events: int
    log: int
    export_seconds: float
    verify_seconds: float
    bundle_bytes: int


def rate(label: str, n: int, work: Callable[[int], object]) -> float:
    print(f"    {label} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    for i in range(n):
        work(i)
    return n / (time.perf_counter() - started)


@contextmanager
def timing_the_sealing() -> Iterator[list[float]]:
    """Wraps the recorder's sealing; yields [seconds spent in it, events it sealed]."""
    spent = [0.0, 0.0]
    unwrapped = sealing.seals

    def timed(
        read: sealing.Read,
        stored_events: Sequence[StoredEvent],
        sealing: Sealing,
        known: sealing.KnownDigests,
    ) -> sealing.Sealed:
        started = time.perf_counter()
        seals = unwrapped(read, stored_events, sealing, known)
        spent[0] += time.perf_counter() - started
        spent[1] += len(stored_events)
        return seals

    sealing.seals = timed
    try:
        yield spent
    finally:
        sealing.seals = unwrapped


def appends(service: Service, clock: SimulatedClock, n: int) -> Appends:
    with timing_the_sealing() as spent:
        measured = _appends(service, clock, n)
    per_event = spent[0] / spent[1] if spent[1] else 0.0
    return Appends(measured.open, measured.visit, per_event)


def _appends(service: Service, clock: SimulatedClock, n: int) -> Appends:
    orders = service.orders
    ids: list[uuid.UUID] = []

    def open_order(i: int) -> None:
        ids.append(orders.handle(request_order(clock()), by=SOCIAL_WORKER).order.id)

    opened = rate("open orders", n, open_order)
    issued = ids[: max(1, n // 4)]
    for order_id in issued:
        orders.handle(an_assessment(), order_id, by=INSPECTOR)
        orders.handle(issue_order(clock()), order_id, by=INSPECTOR)
    clock.advance(timedelta(hours=1))

    def visit(i: int) -> None:
        orders.handle(a_visit_command(clock()), issued[i % len(issued)], by=INSPECTOR)

    return Appends(opened, rate("record visits", n, visit))


def sealing_off(service: Service) -> None:
    recorder = service.orders.recorder
    assert isinstance(recorder, SealedRecords)
    recorder.sealing = None


def a_long_case(service: Service, clock: SimulatedClock, events: int) -> uuid.UUID:
    """An order of `events` events: issued, then visits, decided on the loaded order and saved
    a hundred at a time (one command each would replay the order every time)."""
    orders = service.orders
    order_id = orders.handle(request_order(clock()), by=SOCIAL_WORKER).order.id
    orders.handle(an_assessment(), order_id, by=INSPECTOR)
    orders.handle(issue_order(clock()), order_id, by=INSPECTOR)
    remaining = events - 3
    while remaining > 0:
        order = orders.get(order_id)
        for _ in range(min(100, remaining)):
            clock.advance(timedelta(minutes=1))
            context = Context(by=INSPECTOR, at=clock(), policy=orders.policy, vault=orders.vault)
            a_visit_command(clock()).decide(order, context)
        remaining -= min(100, remaining)
        orders.save(order)
    return order_id


def timed_checkpoint(service: Service, clock: SimulatedClock) -> Checkpoint:
    print("    checkpoint ...", file=sys.stderr, flush=True)
    clock.advance(timedelta(minutes=1))
    started = time.perf_counter()
    signed = make_checkpoint(service.orders, now=clock())
    return Checkpoint(signed.size, time.perf_counter() - started)


def timed_case(service: Service, clock: SimulatedClock, events: int) -> tuple[Checkpoint, Case]:
    print(f"    a case of {events} events ...", file=sys.stderr, flush=True)
    order_id = a_long_case(service, clock, events)
    checkpoint = timed_checkpoint(service, clock)
    service.views.catch_up()
    started = time.perf_counter()
    bundle = export_bundle(service.orders, service.timelines, order_id)
    exported = time.perf_counter() - started
    text = json.dumps(bundle)
    started = time.perf_counter()
    checked = verify_bundle(json.loads(text), trusted_keys=[service.orders.signer.public_key()])
    verified = time.perf_counter() - started
    assert checked.exit_code == 0, checked.verdict
    return checkpoint, Case(events, checkpoint.log, exported, verified, len(text))


@dataclass(frozen=True)
class Results:
    off: Appends
    on: Appends
    checkpoints: list[Checkpoint]
    case: Case
    checkpoint_events: int


def measure(new_url: Callable[[], str], *, n: int, rounds: int, case: int, log: int) -> Results:
    clock = SimulatedClock(datetime.now(tz=UTC))
    runs: dict[bool, list[Appends]] = {False: [], True: []}
    for round_ in range(rounds):
        for sealed in (False, True):
            print(f"  round {round_ + 1}, sealing {'on' if sealed else 'off'}", file=sys.stderr)
            with service_on(new_url(), clock) as service:
                if not sealed:
                    sealing_off(service)
                runs[sealed].append(appends(service, clock, n))
    print("  checkpoints and a case, sealing on", file=sys.stderr)
    with service_on(new_url(), clock) as service:
        appends(service, clock, n)
        cadence = service.settings.checkpoint_events
        signed = [timed_checkpoint(service, clock)]
        while signed[-1].log + cadence + case <= log:  # as the default cadence signs them
            a_long_case(service, clock, cadence)
            signed.append(timed_checkpoint(service, clock))
        last, long_case = timed_case(service, clock, case)
    return Results(median(runs[False]), median(runs[True]), [*signed, last], long_case, cadence)


@contextmanager
def service_on(url: str, clock: SimulatedClock) -> Iterator[Service]:
    service = bootstrap(Settings(database_url=url), clock=clock)
    try:
        yield service
    finally:
        service.close()


def median(runs: list[Appends]) -> Appends:
    return Appends(
        statistics.median(r.open for r in runs),
        statistics.median(r.visit for r in runs),
        statistics.median(r.sealing for r in runs),
    )


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<50} {value:>16}   {note}".rstrip())


def goal(met: bool) -> str:
    return "met" if met else "MISSED"


def report(engine: str, r: Results, *, n: int, rounds: int) -> None:
    print(f"\n{engine}: {rounds} round(s) of {n} commands each way, medians")
    line("", "off /  on", "cost of sealing (lost throughput)")
    for label, off, on in (
        ("open an order (1 event), per s", r.off.open, r.on.open),
        ("record a visit (load + 1 event), per s", r.off.visit, r.on.visit),
    ):
        line(label, f"{off:5.0f} / {on:5.0f}", f"{1 - on / off:.1%}")
    inside = r.on.sealing * r.on.visit  # a share of a visit's time
    line(
        "time inside the sealing, per event",
        f"{r.on.sealing * 1e6:.0f} us",
        f"{r.on.sealing * r.on.open:.1%} of an opening, {inside:.1%} of a visit",
    )
    for signed in r.checkpoints:
        line(f"checkpoint: verify {signed.log:,} events and sign", f"{signed.seconds:.3f} s")
    last = r.checkpoints[-1]
    per_event = last.seconds / r.checkpoint_events
    ckpt_share = per_event * r.on.visit
    line(
        f"checkpoint amortised, 1 per {r.checkpoint_events:,} events",
        f"{per_event * 1e6:.0f} us/event",
        f"{ckpt_share:.1%} of a visit",
    )
    for label, share in (
        ("sealing (lost throughput) + checkpoints", 1 - r.on.visit / r.off.visit + ckpt_share),
        ("sealing (time inside) + checkpoints", inside + ckpt_share),
    ):
        line(
            label,
            f"{share:.1%}",
            f"of a visit; goal < {GOAL_SHARE:.0%}: {goal(share < GOAL_SHARE)}",
        )
    budget = GOAL_SHARE * r.checkpoint_events / r.on.visit
    crossed = next((c.log for c in r.checkpoints if c.seconds > budget), None)
    line(
        f"a checkpoint's budget for checkpoints alone < {GOAL_SHARE:.0%}",
        f"{budget:.3f} s",
        f"exceeded from a log of {crossed:,}" if crossed else "not exceeded in this log",
    )
    line("at 60 s between checkpoints (slow appends)", f"{last.seconds / 60:.2%}", "of one core")
    c = r.case
    print(f"  a case of {c.events:,} events ({c.bundle_bytes / 1e6:.1f} MB) in a log of {c.log:,}")
    line("  export_bundle", f"{c.export_seconds:.3f} s")
    line(
        "  verify_bundle (with the JSON parse)",
        f"{c.verify_seconds:.3f} s",
        f"goal < {GOAL_VERIFY_SECONDS:.0f} s: {goal(c.verify_seconds < GOAL_VERIFY_SECONDS)}",
    )


def run_sqlite(*, n: int, rounds: int, case: int, log: int) -> None:
    print("SQLite ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:

        def new_url() -> str:
            return f"sqlite:///{Path(tmp) / uuid.uuid4().hex}.db"

        results = measure(new_url, n=n, rounds=rounds, case=case, log=log)
        report("SQLite file", results, n=n, rounds=rounds)


def run_postgres(*, n: int, rounds: int, case: int, log: int) -> None:
    print("PostgreSQL ...", file=sys.stderr)
    with durable_postgres() as (cluster, label):
        results = measure(cluster.create_database, n=n, rounds=rounds, case=case, log=log)
        report(label, results, n=n, rounds=rounds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--n", type=int, default=1000, help="commands per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="runs each way, sealing off/on")
    parser.add_argument("--case", type=int, default=1000, help="events in the verified case")
    parser.add_argument(
        "--log", type=int, default=6000, help="grow the log to about this, checkpointing"
    )
    args = parser.parse_args(argv)
    sizes = {"n": args.n, "rounds": args.rounds, "case": args.case, "log": args.log}
    on_engines(args.engine, run_sqlite, run_postgres, **sizes)


if __name__ == "__main__":
    main()
