"""Loading an order: p50 and p95 of one load, with snapshots and without (every event
replayed, the baseline), in the same run, for orders of 10, 100 and 1,000 events (goal: p95
at most 1 ms on PostgreSQL for any order, decision 021).

    .venv/bin/python -m bench.orders [--engine sqlite|postgres|both] [--sizes 10,100,1000]
                                     [--loads 300] [--every 10]

Each order is built as the service builds one, a command at a time: issued, then visits two
hours apart (two in three with a code she gave, which the order checks and remembers) and a
reassessment every 25 events. An order is measured at each size, where a snapshot was just
taken, and again `every - 1` events later, the most events a load replays after its snapshot.
With snapshots is `Orders.get`, as every command loads an order; the baseline is the
library's repository without snapshots, on the same events. `--every` takes several intervals
(a store each): the time spent writing snapshots is given with each, to choose one.
PostgreSQL: a throwaway cluster with fsync and synchronous commits on, or the server named by
PROTECTION_ORDERS_TEST_POSTGRES_URL (its settings are printed).
"""

from __future__ import annotations

import argparse
import os
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
from typing import Any

import pyotp
from eventsourcing.application import Repository
from tests.factories import INSPECTOR, SOCIAL_WORKER, a_visit_command, an_assessment
from tests.integration.helpers import issued_order

from bench.durable import durable_postgres
from orders.application import Orders
from orders.clock import SimulatedClock
from orders.commands import EnrolPresenceProof, NewProof
from orders.domain import ProtectionOrder
from orders.presence import ProofKind
from orders.values import OrderKind
from service.bootstrap import Service, bootstrap
from service.settings import Settings

GOAL_MS = 1.0


@dataclass(frozen=True)
class Loads:
    """One order's load times, in ms, with snapshots and without."""

    events: int
    after_snapshot: int
    on: tuple[float, float]  # p50, p95
    off: tuple[float, float]
    cpu: tuple[float, float]  # of `on`: this process's own work, not its wait for a core


@dataclass(frozen=True)
class Run:
    """What one snapshot interval gave: the loads, and the cost of writing snapshots."""

    every: int
    loads: list[Loads]
    snapshots: int
    snapshot_ms: float  # per snapshot written: the reload, the mark, the insert
    snapshot_bytes: int  # of the largest order's latest
    floor: tuple[float, float]  # one read of one event: a round trip, the least a load costs


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1e3, ordered[int(0.95 * (len(ordered) - 1))] * 1e3


class Builder:
    """Grows realistic orders a command at a time, timing the snapshots written meanwhile."""

    def __init__(self, service: Service, clock: SimulatedClock) -> None:
        self.orders, self.clock = service.orders, clock
        self.spent, self.taken = 0.0, 0
        taking = self.orders.take_snapshot

        def timed(*args: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            taking(*args, **kwargs)
            self.spent += time.perf_counter() - started
            self.taken += 1

        self.orders.take_snapshot = timed  # type: ignore[method-assign]

    def new_order(self) -> tuple[uuid.UUID, pyotp.TOTP]:
        order_id = issued_order(self.orders, kind=OrderKind.COURT)
        enrol = EnrolPresenceProof(person_id="p1", kind=ProofKind.APP)
        proof = self.orders.handle(enrol, order_id, by=SOCIAL_WORKER).returned
        assert isinstance(proof, NewProof)
        return order_id, pyotp.TOTP(proof.secret)

    def grow(self, order_id: uuid.UUID, totp: pyotp.TOTP, *, to: int) -> None:
        while (version := self.orders.get(order_id).version) < to:
            self.clock.advance(timedelta(hours=2))
            at = self.clock()
            if version % 25 == 0:
                self.orders.handle(an_assessment(), order_id, by=INSPECTOR)
                continue
            code = totp.at(at) if version % 3 else None
            self.orders.handle(a_visit_command(at, proof_code=code), order_id, by=INSPECTOR)


def timed_loads(
    load: Callable[[], object], n: int, *, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    times = []
    for _ in range(n):
        started = clock()
        load()
        times.append(clock() - started)
    return times


def both_ways(
    orders: Orders, baseline: Repository[uuid.UUID], order_id: uuid.UUID, loads: int
) -> tuple[tuple[float, float], ...]:
    """p50 and p95 of loading the order with snapshots and of replaying it, `loads` times
    each, taking turns (so a busy moment of the machine falls on both alike); then of the
    CPU time the loads with snapshots take in this process (on a shared machine, the wall
    time also counts the waits for a core)."""
    on: list[float] = []
    off: list[float] = []
    for _ in range(loads):
        on += timed_loads(lambda: orders.get(order_id), 1)
        off += timed_loads(lambda: baseline.get(order_id), 1)
    cpu = timed_loads(lambda: orders.get(order_id), loads, clock=time.process_time)
    return percentiles(on), percentiles(off), percentiles(cpu)


def measure(url: str, *, sizes: list[int], loads: int, every: int) -> Run:
    clock = SimulatedClock(datetime.now(tz=UTC))
    with service_on(url, clock) as service:
        service.orders.snapshotting_intervals = {ProtectionOrder: every}  # type: ignore[misc]
        builder = Builder(service, clock)
        baseline = Repository(service.orders.events)  # the library's, without snapshots
        measured: list[Loads] = []
        order_id: uuid.UUID | None = None
        for size in sizes:
            order_id, totp = builder.new_order()
            for target in (size, size + every - 1):
                print(f"    {target} events ...", file=sys.stderr, flush=True)
                builder.grow(order_id, totp, to=target)
                on, off, cpu = both_ways(service.orders, baseline, order_id, loads)
                measured.append(Loads(target, target % every, on, off, cpu))
        per = builder.spent / builder.taken * 1e3 if builder.taken else 0.0
        assert order_id is not None, "no sizes"
        largest = snapshot_bytes(service.orders, order_id)
        floor = round_trip(service.orders, order_id, loads)
        return Run(every, measured, builder.taken, per, largest, floor)


def round_trip(orders: Orders, order_id: uuid.UUID, loads: int) -> tuple[float, float]:
    """p50 and p95 of reading one stored event, undecoded: the database's round trip."""
    read = orders.events.recorder.select_events
    return percentiles(timed_loads(lambda: read(order_id, gt=1, lte=2), loads))


def snapshot_bytes(orders: Orders, order_id: uuid.UUID) -> int:
    """The size of the order's latest snapshot as stored (its mark included)."""
    if orders.snapshots is None:
        return 0
    rows = orders.snapshots.recorder.select_events(order_id, desc=True, limit=1)
    return len(rows[0].state) if rows else 0


@contextmanager
def service_on(url: str, clock: SimulatedClock) -> Iterator[Service]:
    service = bootstrap(Settings(database_url=url), clock=clock)
    try:
        yield service
    finally:
        service.close()


def report(engine: str, runs: list[Run], *, loads: int) -> None:
    busy = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    print(f"\n{engine}: {loads} loads of each order, ms ({busy})")
    for run in runs:
        print(f"  a snapshot every {run.every} events")
        print(
            f"  {'events':>8} {'after snapshot':>15} {'snapshots p50/p95':>19} "
            f"{'(its CPU p50/p95)':>19} {'replay p50/p95':>18} {'p95 ratio':>10}"
        )
        for r in run.loads:
            print(
                f"  {r.events:>8} {r.after_snapshot:>15} {r.on[0]:>9.2f} / {r.on[1]:<7.2f}"
                f"{r.cpu[0]:>9.2f} / {r.cpu[1]:<7.2f}"
                f"{r.off[0]:>9.2f} / {r.off[1]:<8.2f} {r.off[1] / r.on[1]:>7.1f}x"
            )
        floor = f"{run.floor[0]:.2f} / {run.floor[1]:.2f}"
        print(f"  {'one round trip (a read of one event, the floor)':<50} {floor}")
        worst = max(r.on[1] for r in run.loads)
        met = "met" if worst <= GOAL_MS else "MISSED"
        print(f"  worst p95 with snapshots: {worst:.2f} ms; goal <= {GOAL_MS:.0f} ms: {met}")
        print(
            f"  writing a snapshot: {run.snapshot_ms:.2f} ms each ({run.snapshots} written, "
            f"{run.snapshot_ms / run.every:.2f} ms a command); "
            f"the largest {run.snapshot_bytes:,} bytes"
        )


def run_sqlite(*, sizes: list[int], loads: int, every: list[int]) -> None:
    print("SQLite ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for n in every:
            url = f"sqlite:///{Path(tmp) / uuid.uuid4().hex}.db"
            print(f"  every {n}", file=sys.stderr)
            runs.append(measure(url, sizes=sizes, loads=loads, every=n))
        report("SQLite file", runs, loads=loads)


def run_postgres(*, sizes: list[int], loads: int, every: list[int]) -> None:
    print("PostgreSQL ...", file=sys.stderr)
    with durable_postgres() as (cluster, label):
        runs = []
        for n in every:
            print(f"  every {n}", file=sys.stderr)
            runs.append(measure(cluster.create_database(), sizes=sizes, loads=loads, every=n))
        report(label, runs, loads=loads)


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--sizes", type=numbers, default=[10, 100, 1000], help="events")
    parser.add_argument("--loads", type=int, default=300, help="loads of each order")
    every = Orders.snapshotting_intervals[ProtectionOrder]
    parser.add_argument(
        "--every",
        type=numbers,
        default=[every],
        help=f"snapshot intervals (the service's: {every})",
    )
    args = parser.parse_args(argv)
    sizes = {"sizes": args.sizes, "loads": args.loads, "every": args.every}
    if args.engine in ("sqlite", "both"):
        run_sqlite(**sizes)
    if args.engine in ("postgres", "both"):
        run_postgres(**sizes)


if __name__ == "__main__":
    main()
