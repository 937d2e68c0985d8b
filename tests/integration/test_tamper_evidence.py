"""Alter, delete, reorder or insert events behind the service's back: verification names them.

Each test plays an attacker with direct database access, who first has to switch off the
triggers that refuse UPDATE and DELETE of events (`tests.tampering`). The whole matrix of
attacks, on both engines and followed by new events: test_tamper_matrix.py.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from service.bootstrap import Service
from service.bundles import export_bundle
from service.checkpoints import CheckpointRefused, make_checkpoint
from service.cli import main
from service.integrity import verify_store
from service.verification import verify_bundle
from tests import tampering
from tests.api.conftest import app_of
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, a_visit, a_visit_command
from tests.integration.helpers import issued_order
from tests.tampering import events_table, sql


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
    tampering.edit_state(  # the second visit
        database_url, case, 5, old=b'"person_safe"', new=b'"person_not_found"'
    )
    assert any(f"order {case} event 5" in f and "altered" in f for f in failures(service))
    assert any("no longer match the signed checkpoint" in f for f in failures(service))
    tampered = export_bundle(service.orders, service.timelines, case)
    bad = [f.subject for f in verify_bundle(tampered).findings if not f.holds]
    assert bad[0] == "event 5 (InspectionVisitRecorded)"


def test_a_deleted_event_is_found_and_named(
    service: Service, case: UUID, database_url: str
) -> None:
    tampering.delete_event(database_url, case, 4, with_seal=False)
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
    tampering.swap_states(database_url, case, 4, 5)
    found = failures(service)
    assert any(f"order {case} event 4" in f and "altered" in f for f in found)
    assert any(f"order {case} event 5" in f and "altered" in f for f in found)


def test_an_event_inserted_around_the_service_is_found_and_named(
    service: Service, case: UUID, database_url: str
) -> None:
    tampering.insert_event(database_url, case, copy_of=6, seal="none")
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
    """A checkpoint verifies every event it newly covers: one altered before it is signed is
    refused (an older one is the store check's: test_tamper_matrix)."""
    signed = service.orders.records.select_latest_checkpoint()
    clock.advance(timedelta(hours=1))
    service.orders.handle(a_visit_command(clock()), case, by=INSPECTOR)  # something new to sign
    tampering.edit_state(database_url, case, 7, old=b'"person_safe"', new=b'"person_not_found"')
    with pytest.raises(CheckpointRefused, match=f"order {case} event 7"):
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
    for version in (4, 5, 6):  # the last three visits, and their seals
        tampering.delete_event(database_url, case, version, with_seal=True)
    clock.advance(timedelta(hours=1))
    for _ in range(4):  # new events take the deleted ones' places in the log's count
        service.orders.handle(a_visit_command(clock()), case, by=INSPECTOR)
    found = failures(service)
    assert any("checkpoint of" in f and "no longer match the signed checkpoint" in f for f in found)
    with pytest.raises(CheckpointRefused):
        make_checkpoint(service.orders, now=clock())


def test_heads_kept_with_a_checkpoint_cannot_be_changed_to_hide_a_removal(
    service: Service, case: UUID, database_url: str
) -> None:
    """The heads name what was removed; an insider who changes them too is named as well."""
    with pytest.raises(Exception, match="immutable"):
        sql(database_url, "DELETE FROM checkpoint_heads")
    with tampering.insider(database_url) as run:
        run(
            "UPDATE checkpoint_heads SET version = version - 1 WHERE order_id = %s"
            if not tampering.is_sqlite(database_url)
            else "UPDATE checkpoint_heads SET version = version - 1 WHERE order_id = ?",
            (str(case),),
        )
    assert any(
        "FAIL checkpoint of" in f and "the orders' heads kept with it were altered" in f
        for f in failures(service)
    )


def test_processes_taking_turns_on_one_order_chain_its_events_correctly(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    """Each process remembers the digests it saw committed, to spare a read per event; one
    that did not see another's events reads the digest, and a write that lost a race is
    never remembered."""
    first, second = make_service(), make_service()
    order_id = issued_order(first.orders)
    for writer in (first, second, first, second, second, first):
        clock.advance(timedelta(minutes=5))
        writer.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    stale = first.orders.get(order_id)  # a decision on this will meet the other's write
    clock.advance(timedelta(minutes=5))
    second.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    stale.record_visit(a_visit(clock()), by=INSPECTOR, at=clock(), policy=first.orders.policy)
    with pytest.raises(Exception):  # noqa: B017, PT011 (the library's conflict)
        first.orders.save(stale)
    clock.advance(timedelta(minutes=5))
    first.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    assert [str(f) for f in verify_store(first.orders) if not f.holds] == []
