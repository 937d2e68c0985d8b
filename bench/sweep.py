"""The sweep under load: a sweep with nothing due over a million orders (goal: at most 5 ms),
and the sweep that records 1,000 missed check-ins (goal: at most 1 s).

    .venv/bin/python -m bench.sweep [--engine sqlite|postgres|both] [--orders 1000000]
                                    [--runs 200] [--missed 1000]

Nothing due: a million orders through commands would take hours, so the deadlines view's
table is filled directly, with rows as its own `apply` writes them for orders requested and
issued: a check-in due within 60 days (the longest cadence), its duty due then and its
deadline two hours' grace later, an expiry up to a year away; one in twenty only requested
(no deadlines). One real order is issued too, and the view has applied the whole log, as the
running follower keeps it. PostgreSQL's statistics are gathered (ANALYZE), as autovacuum
would after such an insert; SQLite is left without (the service never runs ANALYZE). The
real `sweep()` is timed `--runs` times, p50 and p95, alternately with its baseline: the look
the sweep took before (wait for the view, then its three queries for up to 500 orders each).
Missed check-ins: twice `--missed` court orders are issued through commands and the clock is
moved past their first check-in's deadline. The baseline, measured first: the path the sweep
took before, `Orders.handle` on each order of one half (one load-decide-save and one
transaction each). Then `sweep()` records the other half's, many orders per transaction.
Each runs in a service built anew (a fresh process, which knows none of those orders' seals);
the time inside the sealing (`storage.sealing.seals`) is given for each. The clock is
simulated: on PostgreSQL the service reads the database's clock, one more read per order on
the old path and per transaction on the new.
PostgreSQL: a throwaway cluster with fsync and synchronous commits on, or the server named by
PROTECTION_ORDERS_TEST_POSTGRES_URL (its settings are printed). The machine's load average is
printed too: on a shared machine the times move with it.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from tests.integration.helpers import issued_order

from bench.durable import durable_postgres, on_engines
from bench.integrity import timing_the_sealing
from orders.clock import SimulatedClock
from orders.commands import RecordMissedCheckIns
from orders.values import SYSTEM_ACTOR, OrderKind
from projections.database import iso
from scheduler.sweep import sweep
from service.bootstrap import Service, bootstrap
from service.settings import Settings

GOAL_NOTHING_DUE_SECONDS = 0.005
GOAL_MISSED_SECONDS = 1.0
GRACE = timedelta(hours=2)
COLUMNS = "order_id, check_in_deadline, expires_at, duty_due"
Row = tuple[str, str | None, str | None, str | None]


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float

    @classmethod
    def of(cls, times: list[float]) -> Percentiles:
        ordered = sorted(times)
        return cls(statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))])


@dataclass(frozen=True)
class NothingDue:
    """The sweep with nothing due, and the look the sweep took before (its baseline)."""

    orders: int
    runs: int
    sweep: Percentiles
    before: Percentiles


@dataclass(frozen=True)
class Recorded:
    """How long recording the missed check-ins took, and how much of it was sealing."""

    orders: int
    recorded: int
    seconds: float
    sealing: float


@dataclass(frozen=True)
class Results:
    nothing_due: NothingDue
    one_by_one: Recorded
    batched: Recorded
    load: tuple[float, float]  # the machine's load average (1 min) before and after


def view_rows(n: int, now: datetime, seed: int = 11) -> Iterator[Row]:
    """Deadline rows as the view writes them for `n` orders, none due by `now`."""
    rnd = random.Random(seed)
    for _ in range(n):
        order_id = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        if rnd.random() < 0.05:
            yield order_id, None, None, None  # requested, not yet issued
            continue
        due = now + timedelta(seconds=rnd.uniform(60, 60 * 86400))
        ends = due + timedelta(seconds=rnd.uniform(0, 300 * 86400))
        yield order_id, iso(due + GRACE), iso(ends), iso(due)


def fill_view(url: str, n: int, now: datetime) -> None:
    print(f"  filling the deadlines view with {n:,} orders ...", file=sys.stderr, flush=True)
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.executemany(
                f"INSERT INTO deadlines ({COLUMNS}) VALUES (?, ?, ?, ?)", view_rows(n, now)
            )
        return
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(f"COPY deadlines ({COLUMNS}) FROM STDIN") as copy:
            for row in view_rows(n, now):
                copy.write_row(row)
        conn.commit()
        conn.execute("ANALYZE deadlines")


def nothing_due(url: str, clock: SimulatedClock, *, orders: int, runs: int) -> NothingDue:
    with service_on(url, clock) as service:
        issued_order(service.orders, kind=OrderKind.COURT)
        service.views.catch_up()
        fill_view(url, orders, clock())
        print(f"  {runs} sweeps with nothing due ...", file=sys.stderr, flush=True)
        swept: list[float] = []
        looked: list[float] = []
        for _ in range(runs):  # alternately, so both see the same machine
            started = time.perf_counter()
            result = sweep(service.orders, service.views, service.deadlines)
            swept.append(time.perf_counter() - started)
            assert result.missed_check_ins == result.expired == result.alerted == 0, result
            started = time.perf_counter()
            found = the_look_before(service, clock())
            looked.append(time.perf_counter() - started)
            assert found == 0
    return NothingDue(orders, runs, Percentiles.of(swept), Percentiles.of(looked))


def the_look_before(service: Service, now: datetime) -> int:
    """What the sweep did before with nothing due: wait for the view to reach the log's head,
    then ask each of the three queries for up to 500 orders."""
    views, deadlines = service.views, service.deadlines
    views.wait(views.head(), projection="deadlines", timeout=10)
    found = deadlines.check_ins_overdue(now, limit=500) + deadlines.expiries_due(now, limit=500)
    return len(found + deadlines.duties_due(now, limit=500))


def missed(url: str, clock: SimulatedClock, n: int) -> tuple[Recorded, Recorded]:
    with service_on(url, clock) as service:
        print(f"  issuing {2 * n:,} orders ...", file=sys.stderr, flush=True)
        before = [issued_order(service.orders, kind=OrderKind.COURT) for _ in range(n)]
        for _ in range(n):  # the sweep's half
            issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(timedelta(days=7) + GRACE + timedelta(minutes=1))
    with service_on(url, clock) as service:
        print(f"  one by one, {n:,} orders ...", file=sys.stderr, flush=True)

        def one_by_one() -> int:
            done = 0
            for order_id in before:
                outcome = service.orders.handle(RecordMissedCheckIns(), order_id, by=SYSTEM_ACTOR)
                done += outcome.returned if isinstance(outcome.returned, int) else 0
            return done

        old = timed(n, one_by_one)
        service.views.catch_up()
    with service_on(url, clock) as service:
        service.views.catch_up()
        print(f"  the sweep, {n:,} orders ...", file=sys.stderr, flush=True)
        swept = service.orders, service.views, service.deadlines
        new = timed(n, lambda: sweep(*swept).missed_check_ins)
        service.views.catch_up()
        assert not service.deadlines.anything_due(clock())  # both halves' windows recorded
    return old, new


def timed(n: int, record: Callable[[], int]) -> Recorded:
    with timing_the_sealing() as spent:
        started = time.perf_counter()
        recorded = record()
        seconds = time.perf_counter() - started
    return Recorded(n, recorded, seconds, spent[0])


@contextmanager
def service_on(url: str, clock: SimulatedClock) -> Iterator[Service]:
    service = bootstrap(Settings(database_url=url), clock=clock)
    try:
        yield service
    finally:
        service.close()


def measure(new_url: Callable[[], str], *, orders: int, runs: int, n: int) -> Results:
    clock = SimulatedClock(datetime.now(tz=UTC))
    load = os.getloadavg()[0]
    due = nothing_due(new_url(), clock, orders=orders, runs=runs)
    old, new = missed(new_url(), clock, n)
    return Results(due, old, new, (load, os.getloadavg()[0]))


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<62} {value:>22}   {note}".rstrip())


def goal(met: bool) -> str:
    return "met" if met else "MISSED"


def report(engine: str, r: Results) -> None:
    d = r.nothing_due
    print(f"\n{engine}; load average {r.load[0]:.1f} before, {r.load[1]:.1f} after")
    line(
        f"sweep, nothing due, {d.orders:,} orders in the view",
        f"p50 {d.sweep.p50 * 1e3:.2f} / p95 {d.sweep.p95 * 1e3:.2f} ms",
        f"{d.runs} runs; goal <= {GOAL_NOTHING_DUE_SECONDS * 1e3:.0f} ms: "
        f"{goal(d.sweep.p95 <= GOAL_NOTHING_DUE_SECONDS)}",
    )
    line(
        "  the look before (wait, then three queries; baseline)",
        f"p50 {d.before.p50 * 1e3:.2f} / p95 {d.before.p95 * 1e3:.2f} ms",
        f"x{d.before.p50 / d.sweep.p50:.1f} at p50",
    )
    old, new = r.one_by_one, r.batched
    for label, rec, note in (
        ("one by one (the path before; baseline)", old, ""),
        (
            "the sweep, many orders per transaction",
            new,
            f"x{old.seconds / new.seconds:.1f} faster; goal <= {GOAL_MISSED_SECONDS:.0f} s: "
            f"{goal(new.seconds <= GOAL_MISSED_SECONDS)}",
        ),
    ):
        assert rec.recorded == rec.orders, rec
        line(f"{rec.orders:,} missed check-ins: {label}", f"{rec.seconds:.3f} s", note)
        line("  of which inside the sealing", f"{rec.sealing:.3f} s")


def run_sqlite(**sizes: int) -> None:
    print("SQLite ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:

        def new_url() -> str:
            return f"sqlite:///{Path(tmp) / uuid.uuid4().hex}.db"

        report("SQLite file", measure(new_url, **sizes))


def run_postgres(**sizes: int) -> None:
    print("PostgreSQL ...", file=sys.stderr)
    with durable_postgres() as (cluster, label):
        report(label, measure(cluster.create_database, **sizes))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in the view")
    parser.add_argument("--runs", type=int, default=200, help="sweeps with nothing due timed")
    parser.add_argument("--missed", type=int, default=1000, help="missed check-ins recorded")
    args = parser.parse_args(argv)
    sizes = {"orders": args.orders, "runs": args.runs, "n": args.missed}
    on_engines(args.engine, run_sqlite, run_postgres, **sizes)


if __name__ == "__main__":
    main()
