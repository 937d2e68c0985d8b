"""With a key configured, nothing readable of an order's events lies in the raw database."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
import pytest

from service.settings import Settings, SettingsError
from tests.conftest import ServiceFactory
from tests.factories import SOCIAL_WORKER, request_order

CANARY = "CANARY-Shelter-12-Chui-Avenue"


def raw_bytes(database_url: str) -> bytes:
    """Everything the database holds, read around the service: files, or every table."""
    if database_url.startswith("sqlite"):
        path = Path(urlsplit(database_url).path[1:])
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with psycopg.connect(database_url) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        dump = [repr(conn.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables]
    return "".join(dump).encode()


def store_a_canary(make_service: ServiceFactory, **settings: object) -> None:
    service = make_service(**settings)
    request = request_order(service.orders.now(), incident_narrative=CANARY)
    service.orders.handle(request, by=SOCIAL_WORKER)
    service.views.catch_up()
    service.close()


def test_events_are_encrypted_at_rest_when_a_key_is_configured(
    make_service: ServiceFactory, database_url: str
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    store_a_canary(make_service, encryption_key=key)
    raw = raw_bytes(database_url)
    assert CANARY.encode() not in raw
    assert b"Aizada" not in raw  # names too: the whole event is ciphertext
    reread = make_service(encryption_key=key)  # opens and reads with the same key
    (row,) = reread.views.db.query("SELECT order_id FROM order_state")
    assert reread.orders.get(UUID(row["order_id"])).request.incident_narrative == CANARY


def test_without_a_key_the_canary_is_readable_so_the_scan_above_can_fail(
    make_service: ServiceFactory, database_url: str
) -> None:
    store_a_canary(make_service)
    assert CANARY.encode() in raw_bytes(database_url)


def test_a_malformed_encryption_key_is_refused_with_what_to_do() -> None:
    with pytest.raises(SettingsError, match="16, 24 or 32 random bytes"):
        Settings(encryption_key="not-base64!").check()
