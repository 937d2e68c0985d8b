"""Commands per second through the application, against raw inserts into the same database.

    .venv/bin/python -m bench.commands [--n 2000]

Runs on a SQLite file and on a throwaway PostgreSQL cluster (or the server named by
PROTECTION_ORDERS_TEST_POSTGRES_URL), and prints each rate with its ratio to the baseline
measured in the same run: raw single-row inserts (sqlite3 / psycopg), one transaction each,
of a row shaped like a stored event. Also times the read models catching up against a plain
read of the log.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from tests.factories import (
    INSPECTOR,
    SOCIAL_WORKER,
    a_visit_command,
    an_assessment,
    issue_order,
    request_order,
)
from tests.pg_cluster import Cluster

from orders.clock import SimulatedClock
from orders.values import OrderKind
from service.bootstrap import Service, bootstrap
from service.settings import Settings

PAYLOAD = b"x" * 900  # about the size of a stored Requested event


def rate(label: str, n: int, work: Callable[[int], object]) -> float:
    print(f"  {label} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    for i in range(n):
        work(i)
    return n / (time.perf_counter() - started)


def raw_sqlite(path: Path, n: int) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE raw (id TEXT, version INTEGER, topic TEXT, state BLOB, "
        "PRIMARY KEY (id, version))"
    )

    def insert(i: int) -> None:
        db.execute("BEGIN")
        db.execute("INSERT INTO raw VALUES (?, 1, 't', ?)", (uuid.uuid4().hex, PAYLOAD))
        db.execute("COMMIT")

    try:
        return rate("raw sqlite3 inserts", n, insert)
    finally:
        db.close()


def raw_postgres(url: str, n: int) -> float:
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(
            "CREATE TABLE raw (id uuid, version bigint, topic text, state bytea, "
            "notification_id bigserial, PRIMARY KEY (id, version))"
        )

        def insert(i: int) -> None:
            with db.transaction():
                db.execute(
                    "INSERT INTO raw (id, version, topic, state) VALUES (%s, 1, 't', %s)",
                    (uuid.uuid4(), PAYLOAD),
                )

        return rate("raw psycopg inserts", n, insert)


def through_the_application(service: Service, clock: SimulatedClock, n: int) -> dict[str, float]:
    orders = service.orders
    ids: list[uuid.UUID] = []

    def open_order(i: int) -> None:
        ids.append(orders.handle(request_order(clock()), by=SOCIAL_WORKER).order.id)

    requested = rate("open orders (1 new event each)", n, open_order)
    for order_id in ids[: n // 4]:
        orders.handle(an_assessment(), order_id, by=INSPECTOR)
        orders.handle(issue_order(clock(), kind=OrderKind.COURT), order_id, by=INSPECTOR)
    clock.advance(timedelta(hours=1))

    def visit(i: int) -> None:
        orders.handle(a_visit_command(clock()), ids[i % (n // 4)], by=INSPECTOR)

    visits = rate("record visits (load + 1 event)", n, visit)
    head = service.views.head()
    started = time.perf_counter()
    iter_log(service)
    read = head / (time.perf_counter() - started)
    print("  read models catching up ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    applied = service.views.catch_up()
    catch_up = applied / len(service.views.projections) / (time.perf_counter() - started)
    return {"open": requested, "visit": visits, "log_read": read, "catch_up": catch_up}


def iter_log(service: Service) -> list[object]:
    batches: list[object] = []
    start = 0
    while batch := service.orders.recorder.select_notifications(
        start=start, limit=500, inclusive_of_start=False
    ):
        batches.append([service.orders.mapper.to_domain_event(n) for n in batch])
        start = batch[-1].id
    return batches


def report(engine: str, raw: float, app: dict[str, float]) -> None:
    print(f"\n{engine}")
    print(f"  raw single-row inserts          {raw:9.0f}/s   (baseline)")
    print(f"  open order (append 1 event)     {app['open']:9.0f}/s   x{app['open'] / raw:.2f}")
    print(f"  record visit (load + append)    {app['visit']:9.0f}/s   x{app['visit'] / raw:.2f}")
    print(f"  read + decode the log           {app['log_read']:9.0f} events/s (baseline)")
    print(
        f"  read models catch up, per view  {app['catch_up']:9.0f} events/s   "
        f"x{app['catch_up'] / app['log_read']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    clock = SimulatedClock(datetime.now(tz=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite ...", file=sys.stderr)
        raw = raw_sqlite(Path(tmp) / "raw.db", n)
        service = bootstrap(Settings(database_url=f"sqlite:///{tmp}/orders.db"), clock=clock)
        try:
            report("SQLite file", raw, through_the_application(service, clock, n))
        finally:
            service.close()
    print("PostgreSQL ...", file=sys.stderr)
    cluster = Cluster()
    try:
        raw_url, app_url = cluster.create_database(), cluster.create_database()
        raw = raw_postgres(raw_url, n)
        service = bootstrap(Settings(database_url=app_url), clock=clock)
        try:
            report("PostgreSQL", raw, through_the_application(service, clock, n))
        finally:
            service.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
