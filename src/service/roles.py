"""Two database roles on PostgreSQL: an owner that runs the migrations, and the service.

The service connects as a role that owns none of the event store's tables, so its own
credentials cannot drop or disable the triggers that keep events, seals, checkpoints,
refusals and witnesses' cosignatures append-only, nor truncate them (docs/deployment.md). The
owner creates the tables and triggers and grants the service what appending and reading need;
the read models' tables are the service's own (they are derived, and rebuilt from the log).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from orders.application import Orders
from orders.policy import load_policy
from service.settings import Settings, SettingsError
from storage.locks import LOCK, SCHEMA_LOCK

EVENTS_TABLE = "orders_events"  # the library's name for the Orders application's events
SNAPSHOTS_TABLE = "orders_snapshots"  # and for its orders' snapshots


def migrate(settings: Settings) -> None:
    """As the owner (OWNER_DATABASE_URL): create the event store's tables and triggers, and
    grant the service's role (DATABASE_URL's user) no more than it needs."""
    assert settings.owner_database_url is not None
    owner_url = settings.owner_database_url.get_secret_value()
    service_role = unquote(urlsplit(settings.database_url).username or "")
    owner_role = unquote(urlsplit(owner_url).username or "")
    if not service_role or service_role == owner_role:
        raise SettingsError(
            "PROTECTION_ORDERS_OWNER_DATABASE_URL must name a role other than DATABASE_URL's: "
            "the service must not own the tables it appends to"
        )
    as_owner = settings.model_copy(update={"database_url": owner_url, "owner_database_url": None})
    Orders(
        as_owner.persistence_env(),
        policy=load_policy(settings.policy_file),
        signing_key=settings.signing_key_bytes(),
    ).close()
    appended = (
        EVENTS_TABLE,
        "event_seals",
        "checkpoints",
        "checkpoint_heads",
        "checkpoint_refusals",
        "checkpoint_cosignatures",
        "presence_secrets",
        "command_keys",
        SNAPSHOTS_TABLE,  # not evidence (orders.snapshots), but written by the service too
    )
    role = sql.Identifier(service_role)
    with psycopg.connect(owner_url, autocommit=True) as db:
        db.execute(LOCK, (SCHEMA_LOCK,))  # two GRANTs at once: "tuple concurrently updated"
        db.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(role))
        for table in appended:
            db.execute(
                sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(sql.Identifier(table), role)
            )
        # Appends take no lock of the events table (storage.order), so the service needs no
        # UPDATE on it, which an older deployment granted for the library's EXCLUSIVE lock.
        db.execute(
            sql.SQL("REVOKE UPDATE ON {} FROM {}").format(sql.Identifier(EVENTS_TABLE), role)
        )
        db.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(role))
