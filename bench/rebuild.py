"""Rebuilding every read model, against a plain read and decode of the same log.

    .venv/bin/python -m bench.rebuild [--orders 300] [--weeks 6] [--seed 7] [--rounds 5]

Builds a district's log once (bench.district, replayed through the application as
bench.detectors replays it: orders requested, assessed and issued, visit reports, missed
check-ins, alerts climbing their ladder, findings, breaches), with a staff directory, a
contact who asked to be told on every third order, and a read of every order's sensitive
fields. The log is copied, event by event, into a SQLite file and into a throwaway PostgreSQL
cluster with fsync on (or the server named by PROTECTION_ORDERS_TEST_POSTGRES_URL).

On each engine it then times, in turn `--rounds` times and the best of each kept: (a) reading
the whole log and decoding each event, in batches of 500 (the baseline), and (b)
`Follower.rebuild()` of every read model; it prints events of the log per second for each and
their ratio. It also counts the SQL
statements the rebuild runs, per event of the log: all of them, and the reads among them (the
log's own included). The outbox is full before the first timed rebuild, as on a running
service (a rebuild keeps it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.sqlite import SQLiteConnection
from tests.pg_cluster import Cluster

from bench.detectors import Replay
from bench.district import generate
from bench.world import MIDNIGHT, Action, District, Order
from orders.alerting import ContactChannel
from orders.clock import SimulatedClock
from orders.commands import RegisterContact
from orders.commands.staff import EnrolStaff
from orders.directory import Directory
from orders.values import Actor, Role
from service.bootstrap import Service, bootstrap
from service.settings import Settings

ADMIN = Actor("admin-bench", Role.ADMIN)
SUPERVISOR = Actor("chief-bench", Role.SUPERVISOR)
SHM = Path("/dev/shm")


class Telling(Replay):
    """The replay, where a protected person asks to be told on every third order, and a
    supervisor reads each order's sensitive fields once."""

    def perform(self, action: Action) -> None:
        super().perform(action)
        if isinstance(action, Order):
            order_id = self.orders[action.index]
            if action.index % 3 == 0:
                contact = RegisterContact(
                    person_id="p1", channel=ContactChannel.SMS, address="+996555000111"
                )
                self.service.orders.handle(contact, order_id, by=SUPERVISOR)
            self.service.orders.read_confidential(order_id, by=SUPERVISOR)


def enrol_staff(service: Service, district: District) -> None:
    """Every inspector of the district, its supervisor and a prosecutor for all districts."""
    directory = Directory(service.orders)
    entries = [(i.id, "inspector", ["Lenin"]) for i in district.inspectors]
    entries += [("chief-bench", "supervisor", ["Lenin"]), ("pros-bench", "prosecutor", ["*"])]
    for staff_id, role, districts in entries:
        email = f"{staff_id}@police.example"
        entry = EnrolStaff(staff_id=staff_id, role=role, districts=districts, email=email)  # type: ignore[arg-type]
        directory.enrol(entry, by=ADMIN)


def build_log(folder: Path, *, seed: int, orders: int, weeks: int) -> Service:
    """The district of `seed` replayed on a SQLite file in `folder`; the caller closes it."""
    district = generate(seed, orders=orders, weeks=weeks)
    clock = SimulatedClock(MIDNIGHT)
    service = bootstrap(Settings(database_url=f"sqlite:///{folder}/log.db"), clock=clock)
    enrol_staff(service, district)
    started = time.perf_counter()

    def progress(done: int, day: int) -> None:
        if day % 7 == 0:
            print(
                f"  day {day}/{7 * weeks}, {done}/{len(district.actions)} actions, "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    Telling(service, clock).run(district, progress)
    return service


def copy_log(source: Service, target: Service) -> None:
    """Every stored event of `source`, in log order, appended to `target`'s log."""
    start = 0
    while batch := source.orders.recorder.select_notifications(
        start=start, limit=500, inclusive_of_start=False
    ):
        target.orders.recorder.insert_events(batch)
        start = batch[-1].id


def read_log(service: Service) -> int:
    """Read the whole log in batches of 500 and decode each event; returns how many."""
    read, start = 0, 0
    while batch := service.orders.recorder.select_notifications(
        start=start, limit=500, inclusive_of_start=False
    ):
        read += len([service.orders.mapper.to_domain_event(n) for n in batch])
        start = batch[-1].id
    return read


@dataclass
class Statements:
    """SQL statements run while counting: all of them, and the reads among them."""

    all: int = 0
    reads: int = 0
    counting: bool = field(default=False, repr=False)

    def saw(self, sql: object, times: int = 1) -> None:
        if self.counting:
            self.all += times
            if str(sql).lstrip()[:6].upper() == "SELECT":
                self.reads += times


@contextmanager
def counting(statements: Statements) -> Iterator[None]:
    """Count every statement either engine's driver runs (SQLite through its trace hook,
    psycopg through its cursor's methods), for the bench only."""
    sqlite_cursor = SQLiteConnection.cursor
    pg_execute, pg_executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def cursor(connection: SQLiteConnection) -> Any:
        connection._sqlite_conn.set_trace_callback(statements.saw)
        return sqlite_cursor(connection)

    def execute(cur: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        statements.saw(query)
        return pg_execute(cur, query, params, **kwargs)

    def executemany(cur: Any, query: Any, params_seq: Any, **kwargs: Any) -> Any:
        params_seq = list(params_seq)
        statements.saw(query, len(params_seq))
        return pg_executemany(cur, query, params_seq, **kwargs)

    SQLiteConnection.cursor = cursor  # type: ignore[method-assign,assignment]
    psycopg.Cursor.execute = execute  # type: ignore[method-assign,assignment]
    psycopg.Cursor.executemany = executemany  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        SQLiteConnection.cursor = sqlite_cursor  # type: ignore[method-assign]
        psycopg.Cursor.execute = pg_execute  # type: ignore[method-assign]
        psycopg.Cursor.executemany = pg_executemany  # type: ignore[method-assign]


def timed(label: str, work: Callable[[], object]) -> float:
    """How long `work` took, in seconds."""
    print(f"  {label} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Result:
    """One engine's rates and statement counts, per event of the log."""

    engine: str
    events: int
    read: float
    rebuild: float
    statements: float
    reads: float


def measure(engine: str, service: Service, rounds: int) -> Result:
    events = service.views.head()
    service.views.catch_up()  # the outbox filled, as on a running service
    reads, rebuilds = [], []
    for i in range(1, rounds + 1):  # in turn, so a busy moment of the machine slows both
        reads.append(timed(f"{i}/{rounds} read + decode the log", lambda: read_log(service)))
        rebuilds.append(timed(f"{i}/{rounds} rebuild every read model", service.views.rebuild))
    read, rebuild = min(reads), min(rebuilds)
    statements = Statements()
    with counting(statements):
        statements.counting = True
        service.views.rebuild()
    return Result(
        engine,
        events,
        events / read,
        events / rebuild,
        statements.all / events,
        statements.reads / events,
    )


def report(results: list[Result]) -> None:
    print(
        f"\n{'engine':12s}{'events':>8s}{'read+decode/s':>15s}{'rebuild/s':>11s}"
        f"{'ratio':>8s}{'statements/event':>18s}{'reads/event':>13s}"
    )
    for r in results:
        print(
            f"{r.engine:12s}{r.events:8d}{r.read:15.0f}{r.rebuild:11.0f}"
            f"{r.rebuild / r.read:7.2f}x{r.statements:18.2f}{r.reads:13.2f}"
        )


def on(url: str) -> Service:
    return bootstrap(Settings(database_url=url), clock=SimulatedClock(MIDNIGHT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = []
    scratch = SHM if SHM.is_dir() else None  # the log's replay: its syncs are not measured
    with tempfile.TemporaryDirectory(dir=scratch) as own, tempfile.TemporaryDirectory() as tmp:
        print("Building the log ...", file=sys.stderr, flush=True)
        source = build_log(Path(own), seed=args.seed, orders=args.orders, weeks=args.weeks)
        try:
            print("SQLite file ...", file=sys.stderr, flush=True)
            service = on(f"sqlite:///{tmp}/orders.db")
            try:
                copy_log(source, service)
                results.append(measure("SQLite file", service, args.rounds))
            finally:
                service.close()
            print("PostgreSQL ...", file=sys.stderr, flush=True)
            cluster = Cluster(durable=True)
            try:
                service = on(cluster.create_database())
                try:
                    copy_log(source, service)
                    results.append(measure("PostgreSQL", service, args.rounds))
                finally:
                    service.close()
            finally:
                cluster.stop()
        finally:
            source.close()
    report(results)


if __name__ == "__main__":
    main()
