"""A database that goes away and comes back: requests it touches get 503 with Retry-After,
within a bounded time, and the same running service answers again once it is back."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from service.bootstrap import Service, bootstrap
from service.settings import Settings
from storage.postgres import CHECK_AFTER_IDLE_SECONDS
from tests.api.conftest import SOCIAL_WORKER, SUPERVISOR, app_of
from tests.factories import request_json
from tests.pg_cluster import Cluster, PostgresUnavailable

WAIT = 2.0  # PROTECTION_ORDERS_DATABASE_WAIT_SECONDS in these tests
BOUND = WAIT + 3.0  # a refused request never takes longer than this
RECOVERY = 30.0


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of this test's own, which it may stop and start."""
    try:
        own = Cluster()
    except PostgresUnavailable as e:
        pytest.skip(f"no PostgreSQL server to stop and start: {e}")
    if not own.own:
        own.stop()
        pytest.skip("the given PostgreSQL server is not the tests' to stop")
    yield own
    own.stop()


@pytest.fixture
def on_postgres(cluster: Cluster) -> Iterator[Service]:
    url = cluster.create_database()
    built = bootstrap(Settings(database_url=url, database_wait_seconds=int(WAIT)))
    built.views.start(0.1)
    yield built
    built.close()


def requests(order_id: str) -> dict[str, Callable[[TestClient], Any]]:
    """A command, a read of the event store, a read of a read model, and the health check."""
    return {
        "open an order": lambda http: http.post("/orders", json=opening(), headers=SOCIAL_WORKER),
        "read an order": lambda http: http.get(f"/orders/{order_id}", headers=SUPERVISOR),
        "list orders": lambda http: http.get("/orders", headers=SUPERVISOR),
        "health": lambda http: http.get("/health"),
    }


def opening() -> dict[str, Any]:
    return request_json(datetime.now(tz=UTC))


def test_a_database_restart_is_503_with_retry_after_and_then_served_again(
    cluster: Cluster, on_postgres: Service
) -> None:
    http = TestClient(app_of(on_postgres), raise_server_exceptions=False)
    opened = http.post("/orders", json=opening(), headers=SOCIAL_WORKER)
    assert opened.status_code == 201, opened.text
    order_id = opened.json()["order_id"]

    cluster.pause()
    for name, send in requests(order_id).items():
        refused_in_time(name, send, http)

    cluster.resume()
    for name, send in requests(order_id).items():
        deadline = time.monotonic() + RECOVERY
        while (status := send(http).status_code) >= 500 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status in (200, 201), (name, status)
    position = int(opened.headers["X-Log-Position"])
    listed = http.get("/orders", headers=SUPERVISOR | {"X-Min-Position": str(position)})
    assert order_id in listed.text  # the projection worker recovered too


def refused_in_time(name: str, send: Callable[[TestClient], Any], http: TestClient) -> None:
    started = time.monotonic()
    response = send(http)
    took = time.monotonic() - started
    assert response.status_code == 503, (name, response.status_code, response.text)
    assert int(response.headers["Retry-After"]) > 0, name
    assert response.json()["error"] == "DatabaseUnavailable", name
    assert took < BOUND, (name, took)


def test_sqlite_locked_beyond_its_busy_timeout_is_503_and_then_served_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.db"
    service = bootstrap(Settings(database_url=f"sqlite:///{path}", database_wait_seconds=1))
    try:
        http = TestClient(app_of(service), raise_server_exceptions=False)
        send = requests("")["open an order"]
        assert send(http).status_code == 201
        with sqlite3.connect(path, isolation_level=None) as other:
            other.execute("BEGIN EXCLUSIVE")  # another process writing, for too long
            refused_in_time("open an order while locked", send, http)
            other.execute("ROLLBACK")
        assert send(http).status_code == 201
    finally:
        service.close()


def test_a_pooled_connection_idle_a_while_is_checked_and_a_dead_one_replaced_unseen(
    cluster: Cluster, on_postgres: Service
) -> None:
    http = TestClient(app_of(on_postgres), raise_server_exceptions=False)
    on_postgres.views.stop()  # only requests use the pool
    assert http.post("/orders", json=opening(), headers=SOCIAL_WORKER).status_code == 201
    url = on_postgres.settings.database_url
    with psycopg.connect(url, autocommit=True) as admin:  # the server drops them, as on failover
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    time.sleep(CHECK_AFTER_IDLE_SECONDS + 0.2)
    for _ in range(3):  # each use of the pool meets a connection the server dropped
        opened = http.post("/orders", json=opening(), headers=SOCIAL_WORKER)
        assert opened.status_code == 201, opened.text
