"""The benchmarks' PostgreSQL: a throwaway cluster that writes as production does, and the
line that says so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from tests.pg_cluster import Cluster

SHOWN = ("fsync", "synchronous_commit", "full_page_writes")


@contextmanager
def durable_postgres() -> Iterator[tuple[Cluster, str]]:
    """A cluster with fsync and synchronous commits on (or the server named by
    PROTECTION_ORDERS_TEST_POSTGRES_URL), and its durability settings as a label."""
    cluster = Cluster(durable=True)
    try:
        with psycopg.connect(cluster.admin_url) as conn:
            settings = [f"{name}={_show(conn, name)}" for name in SHOWN]
        yield cluster, f"PostgreSQL ({', '.join(settings)})"
    finally:
        cluster.stop()


def _show(conn: psycopg.Connection[tuple[object, ...]], name: str) -> object:
    row = conn.execute(f"SHOW {name}").fetchone()
    return None if row is None else row[0]


def on_engines(
    engine: str, sqlite: Callable[..., None], postgres: Callable[..., None], **sizes: Any
) -> None:
    """Run a benchmark's SQLite part, PostgreSQL part or both, as `--engine` asks."""
    if engine in ("sqlite", "both"):
        sqlite(**sizes)
    if engine in ("postgres", "both"):
        postgres(**sizes)
