"""Commands through the application against raw inserts into the same server, at 1 and 4
writers (goal: at least 0.5x).

    .venv/bin/python -m bench.commands [--seconds 8] [--writers 1 4] [--engine postgres|sqlite|both]

Each writer is a process of its own. The baseline: autocommit single-row inserts (psycopg /
sqlite3) of a row shaped like a stored event, one transaction each, into a table like the
events table. The commands: each writer builds the service as production does (on PostgreSQL
its recorded times come from the database's clock) and records visits on orders of its own
(load the order, decide, append one sealed event), or opens new orders (append only). Rates
are summed over the writers, for `--seconds` each.
PostgreSQL: a throwaway cluster with fsync and synchronous commits on, or the server named by
PROTECTION_ORDERS_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
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

from orders.values import OrderKind
from service.bootstrap import bootstrap
from service.settings import Settings

PAYLOAD = b"x" * 900  # about the size of a stored event's state
ORDERS_PER_WRITER = 20


def raw_table(url: str) -> None:
    """A table shaped like the events table, for the baseline."""
    statement = (
        "CREATE TABLE IF NOT EXISTS raw (id {uuid}, version BIGINT, topic TEXT, state {blob}, "
        "position {serial}, PRIMARY KEY (id, version))"
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(statement.format(uuid="TEXT", blob="BLOB", serial="INTEGER"))
    else:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(statement.format(uuid="uuid", blob="bytea", serial="bigserial"))


def raw_writer(url: str, seconds: float) -> int:
    """Single-row inserts, one transaction each, for `seconds`; how many."""
    done, until = 0, time.monotonic() + seconds
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        db.execute("PRAGMA synchronous=FULL")
        while time.monotonic() < until:
            db.execute("INSERT INTO raw VALUES (?, 1, 't', ?, NULL)", (str(uuid.uuid4()), PAYLOAD))
            done += 1
        db.close()
        return done
    with psycopg.connect(url, autocommit=True) as pg:
        while time.monotonic() < until:
            pg.execute(
                "INSERT INTO raw (id, version, topic, state) VALUES (%s, 1, 't', %s)",
                (uuid.uuid4(), PAYLOAD),
            )
            done += 1
    return done


def visit_writer(url: str, seconds: float, order_ids: list[uuid.UUID]) -> int:
    """Visits recorded on `order_ids` in turn for `seconds`; how many."""
    service = bootstrap(Settings(database_url=url))
    orders, done = service.orders, 0
    try:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            orders.handle(
                a_visit_command(orders.now()), order_ids[done % len(order_ids)], by=INSPECTOR
            )
            done += 1
    finally:
        service.close()
    return done


def open_writer(url: str, seconds: float, _: list[uuid.UUID]) -> int:
    """Orders opened (one new event each) for `seconds`; how many."""
    service = bootstrap(Settings(database_url=url))
    orders, done = service.orders, 0
    try:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            orders.handle(request_order(orders.now()), by=SOCIAL_WORKER)
            done += 1
    finally:
        service.close()
    return done


def issued_orders(url: str, n: int) -> list[uuid.UUID]:
    """`n` issued orders a visit may be recorded on."""
    service = bootstrap(Settings(database_url=url))
    orders, ids = service.orders, []
    try:
        for _ in range(n):
            order_id = orders.handle(request_order(orders.now()), by=SOCIAL_WORKER).order.id
            orders.handle(an_assessment(), order_id, by=INSPECTOR)
            orders.handle(issue_order(orders.now(), kind=OrderKind.COURT), order_id, by=INSPECTOR)
            ids.append(order_id)
    finally:
        service.close()
    return ids


Work = Callable[[str, float, list[uuid.UUID]], int]


def rate(
    label: str, work: Work, url: str, writers: int, seconds: float, ids: list[uuid.UUID]
) -> float:
    """The summed rate of `writers` processes doing `work` at once."""
    print(f"  {label}, {writers} writer(s) ...", file=sys.stderr, flush=True)
    share = max(1, len(ids) // writers)
    chunks = [ids[i * share : (i + 1) * share] for i in range(writers)]
    with multiprocessing.get_context("spawn").Pool(writers) as pool:
        counts = pool.starmap(work, [(url, seconds, chunk) for chunk in chunks])
    return sum(counts) / seconds


def raw_work(url: str, seconds: float, _: list[uuid.UUID]) -> int:
    return raw_writer(url, seconds)


def measure(engine: str, url: str, raw_url: str, writers: list[int], seconds: float) -> None:
    raw_table(raw_url)
    ids = issued_orders(url, ORDERS_PER_WRITER * max(writers))
    print(f"\n{engine}")
    heads = ("writers", "raw inserts/s", "visits/s", "x raw", "opens/s", "x raw")
    widths = (7, 13, 9, 6, 8, 6)
    print("  " + "  ".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True)))
    for n in writers:
        raw = rate("raw inserts", raw_work, raw_url, n, seconds, ids)
        visits = rate("visits", visit_writer, url, n, seconds, ids)
        opens = rate("orders opened", open_writer, url, n, seconds, ids)
        print(
            f"  {n:>7}  {raw:>13.0f}  {visits:>9.0f}  {visits / raw:>6.2f}  "
            f"{opens:>8.0f}  {opens / raw:>6.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--engine", choices=("postgres", "sqlite", "both"), default="postgres")
    args = parser.parse_args()
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite ...", file=sys.stderr)
            url, raw_url = f"sqlite:///{tmp}/orders.db", f"sqlite:///{Path(tmp) / 'raw.db'}"
            measure("SQLite file", url, raw_url, args.writers, args.seconds)
    if args.engine in ("postgres", "both"):
        print("PostgreSQL ...", file=sys.stderr)
        cluster = Cluster(durable=True)
        try:
            url, raw_url = cluster.create_database(), cluster.create_database()
            measure(
                "PostgreSQL (fsync and synchronous commit on)",
                url,
                raw_url,
                args.writers,
                args.seconds,
            )
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
