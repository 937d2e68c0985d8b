"""A case bundle verified offline against the keys a prosecutor trusts: forged, truncated,
edited and damaged bundles are refused and named; sensitive fields leave only on a record.
More edits of a bundle, and bundles of a tampered store: test_tamper_matrix.py."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from orders import ledger
from orders.clock import SimulatedClock
from orders.values import Actor, Role
from service.bootstrap import Service
from service.bundles import export_bundle
from service.checkpoints import make_checkpoint
from service.cli import main
from service.verification import WITHHELD, fingerprint, verify_bundle
from tests.factories import (
    INSPECTOR,
    SOCIAL_WORKER,
    a_visit_command,
    an_assessment,
    issue_order,
    request_order,
)
from tests.integration.helpers import issued_order
from tests.integration.test_notifications import enrol
from tests.tampering import write_state

PROSECUTOR = Actor("pros-1", Role.PROSECUTOR)
SHELTER = "Shelter Umut, 9 Frunze St"
SHELTERED = {
    "person_id": "p1",
    "name": "Aizada",
    "sex": "female",
    "birth_date": "1994-04-02",
    "locations": [{"kind": "shelter", "address": SHELTER}],
}
CODE = "code-4711"  # a proof code no id, digest or time can spell by chance
SECRETS = ("He struck her", "12 Oak St", SHELTER, CODE)


@pytest.fixture
def case(service: Service, clock: SimulatedClock) -> UUID:
    """An order of 7 events (request, assessment, issue, 4 visits), checkpointed; she lives
    at a shelter."""
    orders = service.orders
    order_id = orders.handle(
        request_order(clock(), protected_persons=[SHELTERED]), by=SOCIAL_WORKER
    ).order.id
    orders.handle(an_assessment(), order_id, by=INSPECTOR)
    orders.handle(issue_order(clock(), protected_person_ids=["p1"]), order_id, by=INSPECTOR)
    for _ in range(4):
        clock.advance(timedelta(hours=5))
        service.orders.handle(
            a_visit_command(clock(), notes="at her sister's, 12 Oak St", proof_code=CODE),
            order_id,
            by=INSPECTOR,
        )
    issued_order(service.orders)
    make_checkpoint(service.orders, now=clock())
    service.views.catch_up()
    return order_id


def key_of(service: Service) -> bytes:
    return service.orders.signer.public_key()


def bundle_of(service: Service, order_id: UUID, **options: Any) -> dict[str, Any]:
    return export_bundle(service.orders, service.timelines, order_id, **options)


def failed(bundle: dict[str, Any], service: Service) -> list[str]:
    return [
        str(f)
        for f in verify_bundle(bundle, trusted_keys=[key_of(service)]).findings
        if not f.holds
    ]


def test_a_sound_bundle_is_verified_only_against_a_trusted_key(
    service: Service, case: UUID
) -> None:
    bundle = bundle_of(service, case)
    fp = fingerprint(key_of(service))
    checked = verify_bundle(bundle, trusted_keys=[key_of(service)])
    assert checked.exit_code == 0
    assert checked.verdict.startswith(
        f"VERIFIED: order {case}, 7 events, complete up to checkpoint of 10 events signed "
    )
    assert checked.verdict.endswith(f"by key {fp}")
    assert verify_bundle(bundle, fingerprints=[fp.upper()]).exit_code == 0
    untrusted = verify_bundle(bundle)
    assert untrusted.exit_code == 2
    assert untrusted.verdict.startswith("UNVERIFIED SIGNER: ")


def test_a_bundle_forged_and_re_signed_with_another_key_is_refused(
    service: Service, case: UUID
) -> None:
    """The insider rewrites a visit, rebuilds a tree over the order alone and signs it."""
    bundle = bundle_of(service, case)
    content = json.loads(base64.b64decode(bundle["events"][4]["state"]))
    content["visit"]["_data_"]["outcome"] = "person_not_found"
    bundle["events"][4]["state"] = ledger.b64(json.dumps(content).encode())
    bundle["events"][4]["content"]["visit"]["_data_"]["outcome"] = "person_not_found"
    leaves, digest = [], ledger.GENESIS
    for event in bundle["events"]:
        digest = ledger.event_digest(
            digest, case, event["version"], event["topic"], base64.b64decode(event["state"])
        )
        leaves.append(ledger.leaf_hash(digest))
    for i, event in enumerate(bundle["events"]):
        event["log_index"] = i
        event["inclusion_proof"] = [ledger.b64(p) for p in ledger.inclusion_proof(i, leaves)]
    forger = ledger.Signer(bytes([7]) * 32)  # not the service's key
    head = ledger.head_leaf(case, len(leaves), digest)  # and a tree of one order's head
    bundle["checkpoint"] = forger.checkpoint(
        len(leaves), ledger.merkle_root(leaves), bundle["checkpoint"]["signed_at"], head
    ).as_json()
    bundle["head"] = {"events": len(leaves), "index": 0, "orders": 1, "proof": []}
    row = bundle["timeline"][4]
    row["summary"] = row["summary"].replace("person_safe", "person_not_found")
    bundle["public_key"] = ledger.b64(forger.public_key())
    checked = verify_bundle(bundle, trusted_keys=[key_of(service)])
    forged = fingerprint(forger.public_key())
    assert checked.exit_code == 1
    assert checked.verdict.startswith(f"NOT VERIFIED: checkpoint: signed by key {forged}")
    assert fingerprint(key_of(service)) in checked.verdict
    # without a trusted key it would have passed every other check: never call that authentic
    assert verify_bundle(bundle).verdict.startswith("UNVERIFIED SIGNER")


def test_dropping_the_last_events_is_named(service: Service, case: UUID) -> None:
    bundle = bundle_of(service, case)
    bundle["events"] = bundle["events"][:5]
    bundle["timeline"] = [r for r in bundle["timeline"] if r["version"] <= 5]
    checked = verify_bundle(bundle, trusted_keys=[key_of(service)])
    assert checked.verdict.startswith("NOT VERIFIED: order: events 6..7 missing")


def test_dropping_the_last_events_and_lowering_the_count_is_named(
    service: Service, case: UUID
) -> None:
    """The signed orders tree says how many events the order had: its head cannot be moved."""
    bundle = bundle_of(service, case)
    bundle["events"] = bundle["events"][:5]
    bundle["timeline"] = [r for r in bundle["timeline"] if r["version"] <= 5]
    bundle["head"]["events"] = 5
    checked = verify_bundle(bundle, trusted_keys=[key_of(service)])
    assert checked.verdict.startswith(
        "NOT VERIFIED: order: its head (event 5) is not the one the checkpoint signed"
    )


def test_a_case_with_events_after_the_checkpoint_exports_under_a_new_one(
    service: Service, case: UUID, clock: SimulatedClock
) -> None:
    service.orders.handle(a_visit_command(clock()), case, by=INSPECTOR)
    service.views.catch_up()
    bundle = bundle_of(service, case)
    assert bundle["head"]["events"] == 8
    checked = verify_bundle(bundle, trusted_keys=[key_of(service)])
    assert checked.verdict.startswith(f"VERIFIED: order {case}, 8 events, complete up to ")


def test_edited_readable_text_is_named(service: Service, case: UUID) -> None:
    bundle = bundle_of(service, case)
    bundle["events"][4]["content"]["visit"]["_data_"]["outcome"] = "person_not_found"
    (failure,) = failed(bundle, service)
    assert "FAIL event 5 (InspectionVisitRecorded)" in failure
    assert "readable copy differs from its verified state at visit.outcome" in failure


def test_an_edited_and_a_dropped_timeline_row_are_named(service: Service, case: UUID) -> None:
    bundle = bundle_of(service, case)
    bundle["timeline"][3]["summary"] = "inspection visit: person_not_found; proof: none"
    del bundle["timeline"][5]
    found = failed(bundle, service)
    assert found == [
        "FAIL timeline row for event 4: summary differ(s) from the verified event",
        "FAIL timeline row for event 6: is missing from the timeline",
    ]
    verdict = verify_bundle(bundle, trusted_keys=[key_of(service)]).verdict
    assert verdict == "NOT VERIFIED: timeline row for event 4: summary differ(s) from the " + (
        "verified event"
    )


def test_a_damaged_state_exports_and_is_named(
    service: Service,
    case: UUID,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_state(database_url, case, 5, b"\xff\xfe not json")
    bundle = bundle_of(service, case)  # does not crash
    assert bundle["events"][4]["undecodable"] == "its state is not valid UTF-8"
    assert bundle["events"][4]["state"] is None and "content" not in bundle["events"][4]
    assert bundle["events"][4]["record_hash"]  # what the chain needs, and nothing readable
    assert bundle["events"][5]["content"]["visit"]  # the rest is exported
    checked = verify_bundle(bundle, trusted_keys=[key_of(service)])
    assert checked.verdict.startswith(
        "NOT VERIFIED: event 5 (InspectionVisitRecorded): marked undecodable at export: "
        "its state is not valid UTF-8; its recorded state is not in the bundle"
    )
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    out = tmp_path / "case.json"
    assert main(["export", str(case), "--out", str(out)]) == 0
    assert "1 could not be decoded and are marked so" in capsys.readouterr().err
    assert main(["verify", str(out), "--fingerprint", fingerprint(key_of(service))]) == 1
    assert capsys.readouterr().out.startswith("NOT VERIFIED: event 5 (InspectionVisitRecorded)")


def everything_in(bundle: dict[str, Any]) -> str:
    """A bundle as text, with every state it carries decoded: what anyone holding it can read."""
    states = [base64.b64decode(e["state"]).decode() for e in bundle["events"] if e["state"]]
    return json.dumps(bundle) + "".join(states)


def test_a_bundle_without_sensitive_fields_carries_none_of_them_even_in_its_states(
    service: Service, case: UUID
) -> None:
    plain = bundle_of(service, case)
    text = everything_in(plain)
    assert not [secret for secret in SECRETS if secret in text]
    request = plain["events"][0]["content"]["request"]["_data_"]
    assert request["incident_narrative"] == WITHHELD
    assert request["protected_persons"][0]["_data_"]["locations"] == WITHHELD
    assert plain["events"][3]["content"]["visit"]["_data_"]["notes"] == WITHHELD
    assert "proof_code" not in plain["events"][3]["content"]["visit"]["_data_"]  # never kept
    assert verify_bundle(plain, trusted_keys=[key_of(service)]).exit_code == 0
    # withheld text cannot be swapped for invented text
    plain["events"][0]["content"]["request"]["_data_"]["incident_narrative"] = "nothing happened"
    assert "incident_narrative" in failed(plain, service)[0]


def test_sensitive_fields_leave_only_on_a_recorded_disclosure_and_each_is_checked(
    service: Service, case: UUID
) -> None:
    service.views.catch_up()
    assert service.disclosures.of(case) == []
    full = bundle_of(service, case, sensitive_for=PROSECUTOR)
    assert full["sensitive"] == "included"
    assert full["events"][3]["content"]["visit"]["_data_"]["notes"] == "at her sister's, 12 Oak St"
    locations = full["events"][0]["content"]["request"]["_data_"]["protected_persons"][0]
    assert locations["_data_"]["locations"][0]["_data_"]["address"] == SHELTER
    assert verify_bundle(full, trusted_keys=[key_of(service)]).exit_code == 0
    service.views.catch_up()
    (disclosure,) = service.disclosures.of(case)
    assert disclosure["actor_id"] == "pros-1"
    # a disclosed value swapped for another, in the disclosure and the readable copy alike
    place = "/visit/_data_/notes"
    full["events"][3]["disclosed"][place]["value"] = "no one home"
    full["events"][3]["content"]["visit"]["_data_"]["notes"] = "no one home"
    (failure,) = failed(full, service)
    assert f"the value disclosed at {place} is not the one recorded" in failure
    assert "no one home" not in failure and "Oak" not in failure
    # a disclosure of something the verified state does not withhold
    full = bundle_of(service, case, sensitive_for=PROSECUTOR)
    full["events"][3]["disclosed"]["/visit/_data_/outcome"] = {"value": "x", "salt": "AAAA"}
    assert "discloses /visit/_data_/outcome" in failed(full, service)[0]


def test_the_command_line_leads_with_the_verdict(
    service: Service,
    case: UUID,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    bundle, key = tmp_path / "case.json", tmp_path / "service.pub"
    assert main(["export", str(case), "--out", str(bundle)]) == 0
    assert main(["public-key"]) == 0
    printed = capsys.readouterr().out
    key.write_text(printed)
    fp = fingerprint(key_of(service))
    assert f"sha256 fingerprint: {fp}" in printed
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", "postgresql://nowhere.invalid/none")
    assert main(["verify", str(bundle), "--trusted-key", str(key)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(f"VERIFIED: order {case}, 7 events")
    assert main(["verify", str(bundle), "--fingerprint", fp]) == 0
    capsys.readouterr()
    assert main(["verify", str(bundle)]) == 2
    assert capsys.readouterr().out.startswith("UNVERIFIED SIGNER: ")
    assert main(["verify", str(bundle), "--fingerprint", "00" * 32]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"NOT VERIFIED: checkpoint: signed by key {fp}, which is not a trusted")


def test_sensitive_fields_leave_on_the_command_line_only_for_who_is_entitled(
    service: Service,
    case: UUID,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The directory decides, not the flags: enrolled, in that role, a role that may see them,
    covering the order's district."""
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    enrol(service, "pros-region", "prosecutor", email="p@pros.example", districts=("*",))
    enrol(service, "reader-1", "reader", email="r@pros.example", districts=("*",))
    enrol(service, "sw-osh", "social_worker", email="s@pros.example", districts=("Osh",))
    service.views.catch_up()
    out = tmp_path / "case.json"
    refused = {
        ("nobody", "prosecutor"): "no member of staff by that id is in the directory",
        ("pros-region", "inspector"): "enrolled as prosecutor; give that role",
        ("reader-1", "reader"): "a reader may not see sensitive fields",
        ("sw-osh", "social_worker"): "does not cover the order's district",
    }
    for (by, role), why in refused.items():
        argv = ["export", str(case), "--out", str(out), "--with-sensitive", "--by", by]
        assert main([*argv, "--role", role]) == 2
        assert why in " ".join(capsys.readouterr().err.split())
    assert not out.exists()
    assert service.disclosures.of(case) == []
    argv = ["export", str(case), "--out", str(out), "--with-sensitive", "--by", "pros-region"]
    assert main(argv) == 0
    assert SHELTER in out.read_text()
    service.views.catch_up()
    (disclosure,) = service.disclosures.of(case)
    assert (disclosure["actor_id"], disclosure["actor_role"]) == ("pros-region", "prosecutor")
