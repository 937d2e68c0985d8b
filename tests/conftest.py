"""Fixtures: every storage test runs on a SQLite file and on a PostgreSQL database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orders.clock import SimulatedClock
from service.bootstrap import Service, bootstrap
from service.settings import Settings
from tests.pg_cluster import REQUIRED, Cluster, PostgresUnavailable
from tests.receivers import mail, webhook  # noqa: F401 (fixtures: the notifications' receivers)
from tests.witness_process import make_witness, witness  # noqa: F401 (fixtures: a witness process)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster | None]:
    try:
        cluster = Cluster()
    except PostgresUnavailable as e:
        if os.environ.get(REQUIRED):
            pytest.fail(f"PostgreSQL is required ({REQUIRED} is set) but unavailable: {e}")
        yield None
        return
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/orders.db"
        return
    cluster = request.getfixturevalue("postgres")
    if cluster is None:
        pytest.skip(
            "no PostgreSQL server: install PostgreSQL or set PROTECTION_ORDERS_TEST_POSTGRES_URL"
        )
    url = cluster.create_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


ServiceFactory = Callable[..., Service]


@pytest.fixture
def make_service(database_url: str, clock: SimulatedClock) -> Iterator[ServiceFactory]:
    """Builds services on the test's database; several may share it, like several processes."""
    built: list[Service] = []

    def make(**settings: object) -> Service:
        service = bootstrap(
            Settings(database_url=database_url, **settings),  # type: ignore[arg-type]
            clock=clock,
        )
        built.append(service)
        return service

    yield make
    for service in built:
        service.close()


@pytest.fixture
def service(make_service: ServiceFactory) -> Service:
    return make_service()
