"""Alter, delete, reorder or insert events behind the service's back: verification names them.

Each test plays an attacker with direct database access, who first has to drop the triggers
that refuse UPDATE and DELETE of events.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from service.bootstrap import Service
from service.bundles import export_bundle, verify_bundle
from service.cli import main
from service.integrity import CheckpointRefused, make_checkpoint, verify_store
from tests.api.conftest import app_of
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order


def sql(database_url: str, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run SQL directly on the database, around the service."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(urlsplit(database_url).path[1:]) as db:
            return db.execute(statement.replace("%s", "?"), params).fetchall()
    with psycopg.connect(database_url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def events_table(database_url: str) -> str:
    return "stored_events" if database_url.startswith("sqlite") else "orders_events"


def drop_triggers(database_url: str) -> None:
    table = events_table(database_url)
    if database_url.startswith("sqlite"):
        for verb in ("update", "delete"):
            sql(database_url, f"DROP TRIGGER {table}_no_{verb}")
    else:
        sql(database_url, f"DROP TRIGGER {table}_immutable ON {table}")


def oid(database_url: str, order_id: UUID) -> str:
    return order_id.hex if database_url.startswith("sqlite") else str(order_id)


def failures(service: Service) -> list[str]:
    return [str(f) for f in verify_store(service.orders) if not f.holds]


@pytest.fixture
def case(service: Service, clock: SimulatedClock) -> UUID:
    """An order with visits, and a signed checkpoint over the log."""
    order_id = issued_order(service.orders)
    for _ in range(3):
        clock.advance(timedelta(hours=5))
        service.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    issued_order(service.orders)  # another order after it in the log
    make_checkpoint(service.orders, now=clock())
    service.views.catch_up()
    return order_id


def test_an_untouched_store_and_its_bundle_verify(service: Service, case: UUID) -> None:
    assert failures(service) == []
    key = service.orders.signer.public_key()
    checked = verify_bundle(
        export_bundle(service.orders, service.timelines, case), trusted_keys=[key]
    )
    assert [f for f in checked.findings if not f.holds] == []
    assert checked.verdict.startswith(f"VERIFIED: order {case}, 6 events, complete")
    # the checkpoint, six events, completeness, six timeline rows
    assert len(checked.findings) == 1 + 6 + 1 + 6


def test_the_store_refuses_update_and_delete_of_events(
    service: Service, case: UUID, database_url: str
) -> None:
    table = events_table(database_url)
    with pytest.raises(Exception, match="immutable"):
        sql(database_url, f"UPDATE {table} SET topic = 'x'")
    with pytest.raises(Exception, match="immutable"):
        sql(database_url, f"DELETE FROM {table}")
    with pytest.raises(Exception, match="immutable"):
        sql(database_url, "DELETE FROM event_seals")


def test_altered_bytes_are_found_and_named(service: Service, case: UUID, database_url: str) -> None:
    bundle = export_bundle(service.orders, service.timelines, case)
    drop_triggers(database_url)
    table = events_table(database_url)
    forged = bundle["events"][4]["state"]  # the second visit
    content = json.loads(base64.b64decode(forged))
    content["visit"]["_data_"]["outcome"] = "person_not_found"
    sql(
        database_url,
        f"UPDATE {table} SET state = %s WHERE originator_id = %s AND originator_version = 5",
        (json.dumps(content).encode(), oid(database_url, case)),
    )
    assert any(f"order {case} event 5" in f and "altered" in f for f in failures(service))
    assert any("no longer match the signed checkpoint" in f for f in failures(service))
    tampered = export_bundle(service.orders, service.timelines, case)
    bad = [f.subject for f in verify_bundle(tampered).findings if not f.holds]
    assert bad[0] == "event 5 (InspectionVisitRecorded)"


def test_a_deleted_event_is_found_and_named(
    service: Service, case: UUID, database_url: str
) -> None:
    drop_triggers(database_url)
    sql(
        database_url,
        f"DELETE FROM {events_table(database_url)} WHERE originator_id = %s "
        "AND originator_version = 4",
        (oid(database_url, case),),
    )
    found = failures(service)
    assert any(f"order {case} event 5" in f and "4..4 are missing" in f for f in found)
    assert any("only" in f and "remain" in f for f in found)
    bad = [
        f.detail
        for f in verify_bundle(export_bundle(service.orders, service.timelines, case)).findings
        if not f.holds
    ]
    assert any("events 4..4 are missing" in d for d in bad)


def test_two_reordered_events_are_found_and_named(
    service: Service, case: UUID, database_url: str
) -> None:
    drop_triggers(database_url)
    table, order = events_table(database_url), oid(database_url, case)
    query = f"SELECT originator_version, state FROM {table} WHERE originator_id = %s"
    states = dict(sql(database_url, query, (order,)))
    for version, other in ((4, 5), (5, 4)):
        sql(
            database_url,
            f"UPDATE {table} SET state = %s WHERE originator_id = %s AND originator_version = %s",
            (states[other], order, version),
        )
    found = failures(service)
    assert any(f"order {case} event 4" in f and "altered" in f for f in found)
    assert any(f"order {case} event 5" in f and "altered" in f for f in found)


def test_an_event_inserted_around_the_service_is_found_and_named(
    service: Service, case: UUID, database_url: str
) -> None:
    table, order = events_table(database_url), oid(database_url, case)
    (state,) = sql(
        database_url,
        f"SELECT state FROM {table} WHERE originator_id = %s AND originator_version = 6",
        (order,),
    )[0]
    topic = sql(
        database_url,
        f"SELECT topic FROM {table} WHERE originator_id = %s AND originator_version = 6",
        (order,),
    )[0][0]
    sql(
        database_url,
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
        "VALUES (%s, 7, %s, %s)",
        (order, topic, state),
    )
    assert any(
        f"order {case} event 7" in f and "written around the service" in f
        for f in failures(service)
    )
    bad = [
        f
        for f in verify_bundle(export_bundle(service.orders, service.timelines, case)).findings
        if not f.holds
    ]
    assert [f.subject for f in bad] == [
        "event 7 (InspectionVisitRecorded)",
        "timeline row for event 7",  # the views never saw it: it was written around them
    ]
    assert "not covered by a signed checkpoint" in bad[0].detail


def test_export_and_verify_from_the_command_line(
    service: Service,
    case: UUID,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    bundle = tmp_path / "case.json"
    assert main(["export", str(case), "--out", str(bundle)]) == 0
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", "postgresql://nowhere.invalid/none")
    key = tmp_path / "key.pub"
    key.write_text(base64.b64encode(service.orders.signer.public_key()).decode())
    assert main(["verify", str(bundle), "--trusted-key", str(key)]) == 0  # offline
    out = capsys.readouterr().out
    assert out.startswith(f"VERIFIED: order {case}, 6 events")
    assert "event 6 (InspectionVisitRecorded): content, chain, inclusion and readable" in out
    data = json.loads(bundle.read_text())
    data["events"][2]["content"]["note"] = "edited"  # the readable copy is not what is checked
    data["events"][2]["state"] = data["events"][3]["state"]
    bundle.write_text(json.dumps(data))
    assert main(["verify", str(bundle), "--trusted-key", str(key)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("NOT VERIFIED: event 3 (Issued)")
    assert "FAIL event 3 (Issued)" in out


def test_truncation_is_refused_on_every_engine(
    service: Service, case: UUID, database_url: str
) -> None:
    tables = [events_table(database_url), "event_seals", "checkpoints"]
    if not database_url.startswith("sqlite"):  # a statement trigger fires on an empty table too
        tables.append("checkpoint_refusals")
    for table in tables:
        statement = (
            f"DELETE FROM {table}"  # SQLite's TRUNCATE
            if database_url.startswith("sqlite")
            else f"TRUNCATE {table}"
        )
        with pytest.raises(Exception, match="immutable"):
            sql(database_url, statement)
    assert failures(service) == []


def test_a_checkpoint_refuses_to_sign_an_altered_log_and_keeps_why(
    service: Service,
    case: UUID,
    database_url: str,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = export_bundle(service.orders, service.timelines, case)
    drop_triggers(database_url)
    content = json.loads(base64.b64decode(bundle["events"][4]["state"]))
    content["visit"]["_data_"]["outcome"] = "person_not_found"
    sql(
        database_url,
        f"UPDATE {events_table(database_url)} SET state = %s "
        "WHERE originator_id = %s AND originator_version = 5",
        (json.dumps(content).encode(), oid(database_url, case)),
    )
    signed = service.orders.records.select_latest_checkpoint()
    clock.advance(timedelta(hours=1))
    service.orders.handle(a_visit_command(clock()), case, by=INSPECTOR)  # something new to sign
    with pytest.raises(CheckpointRefused, match=f"order {case} event 5"):
        make_checkpoint(service.orders, now=clock())
    assert service.orders.records.select_latest_checkpoint() == signed  # nothing was signed
    ((refused_at, reason),) = service.orders.records.select_checkpoint_refusals()
    assert refused_at.startswith(clock().isoformat()[:16])
    assert "altered" in reason and "person_not_found" not in reason
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    assert main(["checkpoint"]) == 2  # the command line says so in one line, and fails
    assert len(service.orders.records.select_checkpoint_refusals()) == 2
    with TestClient(app_of(service)) as client:  # and monitoring sees it
        assert client.get("/health").json()["checkpoint_refusals"] == 2


def test_newest_events_deleted_with_their_seals_are_found_after_new_events_arrive(
    service: Service, case: UUID, database_url: str, clock: SimulatedClock
) -> None:
    drop_triggers(database_url)
    if database_url.startswith("sqlite"):
        sql(database_url, "DROP TRIGGER event_seals_no_delete")
    else:
        sql(database_url, "DROP TRIGGER event_seals_immutable ON event_seals")
    for version in (4, 5, 6):  # the last three visits, and their seals
        sql(
            database_url,
            f"DELETE FROM {events_table(database_url)} WHERE originator_id = %s "
            "AND originator_version = %s",
            (oid(database_url, case), version),
        )
        sql(
            database_url,
            "DELETE FROM event_seals WHERE originator_id = %s AND version = %s",
            (str(case), version),
        )
    clock.advance(timedelta(hours=1))
    for _ in range(4):  # new events take the deleted ones' places in the log's count
        service.orders.handle(a_visit_command(clock()), case, by=INSPECTOR)
    found = failures(service)
    assert any("checkpoint of" in f and "no longer match the signed checkpoint" in f for f in found)
    with pytest.raises(CheckpointRefused):
        make_checkpoint(service.orders, now=clock())
