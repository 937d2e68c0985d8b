"""PostgreSQL: the service connects as a role that owns no table of the event store, so its
own credentials can neither drop the triggers nor truncate; the owner runs the migrations."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from orders.clock import SimulatedClock
from service.bootstrap import Service, bootstrap
from service.cli import main
from service.settings import Settings, SettingsError
from tests.integration.helpers import issued_order


@pytest.fixture
def owner_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("database roles are PostgreSQL's")
    return database_url


@pytest.fixture
def service_url(owner_url: str) -> str:
    role = "po_service_" + urlsplit(owner_url).path.strip("/")[-8:]
    with psycopg.connect(owner_url, autocommit=True) as db:
        db.execute(f"CREATE ROLE {role} LOGIN")
    url = urlsplit(owner_url)
    return url._replace(netloc=f"{role}@{url.hostname}:{url.port}").geturl()


def test_the_service_role_owns_nothing_and_cannot_undo_the_triggers(
    owner_url: str, service_url: str, clock: SimulatedClock
) -> None:
    service: Service = bootstrap(
        Settings(database_url=service_url, owner_database_url=owner_url), clock=clock
    )
    try:
        order_id = issued_order(service.orders)  # appends, seals and reads work as the service
        service.views.catch_up()
        assert service.states.get(order_id) is not None
    finally:
        service.close()
    with psycopg.connect(service_url, autocommit=True) as db:
        owners = db.execute(
            "SELECT tablename FROM pg_tables WHERE tableowner = current_user "
            "AND tablename IN ('orders_events', 'event_seals', 'checkpoints', "
            "'checkpoint_refusals', 'checkpoint_cosignatures', 'command_keys')"
        ).fetchall()
        assert owners == []
        for statement, refusal in (
            ("DROP TRIGGER orders_events_immutable ON orders_events", "must be owner"),
            ("ALTER TABLE orders_events DISABLE TRIGGER ALL", "must be owner"),
            ("TRUNCATE event_seals", "permission denied|immutable"),
            ("UPDATE orders_events SET topic = 'x'", "permission denied|immutable"),
            ("DELETE FROM checkpoints", "permission denied|immutable"),
            ("DELETE FROM checkpoint_cosignatures", "permission denied|immutable"),
        ):
            with pytest.raises(psycopg.Error, match=refusal):
                db.execute(statement)


def test_the_owner_must_be_another_role(owner_url: str) -> None:
    with pytest.raises(SettingsError, match="other than"):
        bootstrap(Settings(database_url=owner_url, owner_database_url=owner_url))


def test_migrate_once_as_the_owner_then_run_without_the_owners_password(
    owner_url: str, service_url: str, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", service_url)
    monkeypatch.setenv("PROTECTION_ORDERS_OWNER_DATABASE_URL", owner_url)
    assert main(["migrate"]) == 0
    monkeypatch.delenv("PROTECTION_ORDERS_OWNER_DATABASE_URL")
    service = bootstrap(Settings(database_url=service_url, create_tables=False), clock=clock)
    try:
        order_id = issued_order(service.orders)
        service.views.catch_up()
        assert service.states.get(order_id) is not None
    finally:
        service.close()
    monkeypatch.setenv("PROTECTION_ORDERS_OWNER_DATABASE_URL", "")
    monkeypatch.delenv("PROTECTION_ORDERS_OWNER_DATABASE_URL")
    assert main(["migrate"]) == 2  # without the owner's URL it says what to set
