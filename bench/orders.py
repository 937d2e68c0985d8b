"""Loading an order: p50 and p95 of one load, kept in memory, from its snapshot, and without
either (every event replayed, the baseline), in the same run, for orders of 10, 100 and 1,000
events (goal: p95 at most 1 ms on PostgreSQL for any order, decisions 021 and 024).

    .venv/bin/python -m bench.orders [--engine sqlite|postgres|both] [--sizes 10,100,1000]
                                     [--loads 300] [--every 10]

Each order is built as the service builds one, a command at a time: issued, then visits two
hours apart (two in three with a code she gave, which the order checks and remembers) and a
reassessment every 25 events. An order is measured at each size, where a snapshot was just
taken, and again `every - 1` events later, the most events a load replays after its snapshot.
Kept is `Orders.get` in the process that built the order (it asks the store only for what is
new); from its snapshot is `Orders.get` in a process that keeps no order in memory, as a
process that never read the order loads it (the goal is for this one); the baseline is the
library's repository without snapshots, on the same events. `--every` takes several intervals
(a store each): what writing a snapshot with its events adds to a save is given with each.
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

from bench.durable import durable_postgres, on_engines
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
    """One order's load times, in ms: kept in memory, from its snapshot, replayed."""

    events: int
    after_snapshot: int
    kept: tuple[float, float]  # p50, p95
    on: tuple[float, float]
    off: tuple[float, float]
    cpu: tuple[float, float]  # of `on`: this process's own work, not its wait for a core


@dataclass(frozen=True)
class Run:
    """What one snapshot interval gave: the loads, and the cost of writing snapshots."""

    every: int
    loads: list[Loads]
    snapshots: int
    snapshot_ms: float  # what a save that writes a snapshot takes more than one that doesn't
    snapshot_bytes: int  # of the largest order's latest
    floor: tuple[float, float]  # one read of one event: a round trip, the least a load costs


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1e3, ordered[int(0.95 * (len(ordered) - 1))] * 1e3


class Builder:
    """Grows realistic orders a command at a time, timing the saves that write a snapshot
    (with their events) and those that don't."""

    def __init__(self, service: Service, clock: SimulatedClock, every: int) -> None:
        self.orders, self.clock, self.every = service.orders, clock, every
        self.saves: dict[bool, list[float]] = {True: [], False: []}

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
                command: Any = an_assessment()
            else:
                command = a_visit_command(at, proof_code=totp.at(at) if version % 3 else None)
            started = time.perf_counter()
            reached = self.orders.handle(command, order_id, by=INSPECTOR).order.version
            snapshot = reached // self.every > version // self.every
            self.saves[snapshot].append(time.perf_counter() - started)

    def snapshot_ms(self) -> float:
        """What a save that writes a snapshot takes more than one that doesn't (medians)."""
        with_one, without = self.saves[True], self.saves[False]
        if not with_one or not without:
            return 0.0
        return (statistics.median(with_one) - statistics.median(without)) * 1e3


def timed_loads(
    load: Callable[[], object], n: int, *, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    times = []
    for _ in range(n):
        started = clock()
        load()
        times.append(clock() - started)
    return times


def three_ways(
    kept: Orders, cold: Orders, baseline: Repository[uuid.UUID], order_id: uuid.UUID, loads: int
) -> tuple[tuple[float, float], ...]:
    """p50 and p95 of loading the order kept in memory, from its snapshot, and replayed,
    `loads` times each, taking turns (so a busy moment of the machine falls on all alike);
    then of the CPU time the loads from the snapshot take in this process (on a shared
    machine, the wall time also counts the waits for a core)."""
    warm: list[float] = []
    on: list[float] = []
    off: list[float] = []
    for _ in range(loads):
        warm += timed_loads(lambda: kept.get(order_id), 1)
        on += timed_loads(lambda: cold.get(order_id), 1)
        off += timed_loads(lambda: baseline.get(order_id), 1)
    cpu = timed_loads(lambda: cold.get(order_id), loads, clock=time.process_time)
    return percentiles(warm), percentiles(on), percentiles(off), percentiles(cpu)


def measure(url: str, *, sizes: list[int], loads: int, every: int) -> Run:
    clock = SimulatedClock(datetime.now(tz=UTC))
    with service_on(url, clock) as service, service_on(url, clock, in_memory=0) as cold:
        for orders in (service.orders, cold.orders):
            orders.snapshotting_intervals = {ProtectionOrder: every}  # type: ignore[misc]
        builder = Builder(service, clock, every)
        baseline = Repository(service.orders.events)  # the library's, without snapshots
        measured: list[Loads] = []
        order_id: uuid.UUID | None = None
        for size in sizes:
            order_id, totp = builder.new_order()
            for target in (size, size + every - 1):
                print(f"    {target} events ...", file=sys.stderr, flush=True)
                builder.grow(order_id, totp, to=target)
                warm, on, off, cpu = three_ways(
                    service.orders, cold.orders, baseline, order_id, loads
                )
                measured.append(Loads(target, target % every, warm, on, off, cpu))
        assert order_id is not None, "no sizes"
        largest = snapshot_bytes(service.orders, order_id)
        floor = round_trip(service.orders, order_id, loads)
        taken = len(builder.saves[True])
        return Run(every, measured, taken, builder.snapshot_ms(), largest, floor)


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
def service_on(url: str, clock: SimulatedClock, *, in_memory: int = 10_000) -> Iterator[Service]:
    service = bootstrap(Settings(database_url=url, orders_in_memory=in_memory), clock=clock)
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
            f"  {'events':>8} {'after snapshot':>15} {'kept p50/p95':>15} "
            f"{'from snapshot p50/p95':>22} {'(its CPU p50/p95)':>19} {'replay p50/p95':>18} "
            f"{'p95 ratio':>10}"
        )
        for r in run.loads:
            print(
                f"  {r.events:>8} {r.after_snapshot:>15} {r.kept[0]:>6.2f} / {r.kept[1]:<6.2f}"
                f"{r.on[0]:>11.2f} / {r.on[1]:<8.2f}{r.cpu[0]:>9.2f} / {r.cpu[1]:<7.2f}"
                f"{r.off[0]:>9.2f} / {r.off[1]:<8.2f} {r.off[1] / r.on[1]:>7.1f}x"
            )
        floor = f"{run.floor[0]:.2f} / {run.floor[1]:.2f}"
        print(f"  {'one round trip (a read of one event, the floor)':<50} {floor}")
        worst = max(r.on[1] for r in run.loads)
        met = "met" if worst <= GOAL_MS else "MISSED"
        print(f"  worst p95 from a snapshot: {worst:.2f} ms; goal <= {GOAL_MS:.0f} ms: {met}")
        worst_kept = max(r.kept[1] for r in run.loads)
        print(f"  worst p95 kept in memory: {worst_kept:.2f} ms")
        print(
            f"  writing a snapshot with its events adds {run.snapshot_ms:.2f} ms to that save "
            f"({run.snapshots} written, {run.snapshot_ms / run.every:.2f} ms a command); "
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
    on_engines(args.engine, run_sqlite, run_postgres, **sizes)


if __name__ == "__main__":
    main()
