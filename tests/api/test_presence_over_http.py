"""Proof of presence over HTTP: codes she gives are checked against the claimed time; the
secret is shown once and kept only encrypted; the code itself is never kept (both engines)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from tests.api.conftest import INSPECTOR, READER, SOCIAL_WORKER, SUPERVISOR, issued, post
from tests.factories import request_json
from tests.tampering import events_table, sql


def enrol(client: TestClient, order_id: str, kind: str = "app", **more: Any) -> dict[str, Any]:
    body = {"person_id": "p1", "kind": kind}
    return post(client, f"/orders/{order_id}/presence-proofs", body, SOCIAL_WORKER | more)


def visit(client: TestClient, order_id: str, at: datetime, code: str) -> None:
    body = {"visited_at": at.isoformat(), "met_with": ["p1"], "outcome": "person_safe"}
    post(client, f"/orders/{order_id}/visits", body | {"proof_code": code})


def proofs_said(client: TestClient, order_id: str) -> list[str]:
    """What the timeline (supervisors' view) says of each visit's proof."""
    rows = client.get(f"/orders/{order_id}/timeline", headers=SUPERVISOR).json()["items"]
    return [
        row["summary"].split("proof: ")[1].split(";")[0]
        for row in rows
        if row["event_type"] == "InspectionVisitRecorded"
    ]


def values_in(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in values_in(v)]
    if isinstance(value, list):
        return [x for v in value for x in values_in(v)]
    return [value]


def test_a_code_from_her_app_proves_the_visit_at_the_time_it_claims(
    client: TestClient, clock: SimulatedClock, database_url: str
) -> None:
    order_id = issued(client, clock)
    response = client.post(
        f"/orders/{order_id}/presence-proofs",
        json={"person_id": "p1", "kind": "app"},
        headers=SOCIAL_WORKER,
    )
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    shown = response.json()
    secret = shown["secret"]
    assert shown["otpauth_uri"].startswith("otpauth://totp/Check-in")
    assert "p1" not in shown["otpauth_uri"] and order_id not in shown["otpauth_uri"]
    assert shown["card_codes"] is None
    totp = pyotp.TOTP(secret)

    clock.advance(timedelta(hours=2))
    at = clock() - timedelta(minutes=30)
    visit(client, order_id, at, totp.at(at + timedelta(minutes=4)))  # her phone runs fast
    visit(client, order_id, at, totp.at(at + timedelta(minutes=4)))  # the same code again
    clock.advance(timedelta(hours=30))
    claimed = clock() - timedelta(hours=28)  # a visit claimed yesterday, code made today
    visit(client, order_id, claimed, totp.at(clock()))
    visit(client, order_id, clock(), "12345678")  # no code of hers has eight digits
    assert proofs_said(client, order_id) == [
        "code proven",
        "code reused",
        "code out_of_time",
        "code wrong",
    ]
    confidential = client.get(f"/orders/{order_id}/confidential", headers=INSPECTOR).json()
    assert [v["proof"] for v in confidential["visits"]] == [
        "proven",
        "reused",
        "out_of_time",
        "wrong",
    ]
    # the secret is in the vault only, encrypted; no event holds it, nor any code given
    codes = {totp.at(at + timedelta(minutes=4)), totp.at(clock())}
    vault = sql(database_url, "SELECT sealed FROM presence_secrets")
    assert len(vault) == 1 and secret not in vault[0][0]
    for (state,) in sql(database_url, f"SELECT state FROM {events_table(database_url)}"):
        text = bytes(state).decode()
        assert secret not in text
        assert not codes & {str(v) for v in values_in(json.loads(text))}


def test_a_printed_card_gives_single_use_codes(client: TestClient, clock: SimulatedClock) -> None:
    order_id = issued(client, clock)
    card = enrol(client, order_id, "card")["card_codes"]
    assert len(card) == 40 and len(set(card)) > 35
    clock.advance(timedelta(hours=1))
    visit(client, order_id, clock(), card[0])
    visit(client, order_id, clock(), card[0])
    visit(client, order_id, clock(), card[7])
    assert proofs_said(client, order_id) == ["code proven", "code reused", "code proven"]


def test_a_new_secret_revokes_the_old_one_and_is_shown_once(
    client: TestClient, clock: SimulatedClock
) -> None:
    order_id = issued(client, clock)
    old = pyotp.TOTP(enrol(client, order_id)["secret"])
    clock.advance(timedelta(hours=1))
    retried = {"Idempotency-Key": "enrol-after-phone-taken"}
    new = enrol(client, order_id, **retried)
    again = enrol(client, order_id, **retried)  # a retry: the same proof, no secret shown
    assert again["proof_id"] == new["proof_id"] and again["secret"] is None
    clock.advance(timedelta(hours=1))
    visit(client, order_id, clock(), old.at(clock()))  # whoever holds her old phone
    visit(client, order_id, clock(), pyotp.TOTP(new["secret"]).at(clock()))
    assert proofs_said(client, order_id) == ["code revoked", "code proven"]


def test_no_enrolment_no_verdict_but_unverifiable(
    client: TestClient, clock: SimulatedClock
) -> None:
    order_id = issued(client, clock)
    visit(client, order_id, clock(), "123456")
    assert proofs_said(client, order_id) == ["code unverifiable"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"person_id": "p9", "kind": "app"}, 422, "person_id"),
        ({"person_id": "p1", "kind": "tattoo"}, 422, "kind"),
        ({"person_id": "p1"}, 422, "kind"),
    ],
)
def test_bad_enrolments_are_refused_and_nothing_is_stored(
    client: TestClient,
    clock: SimulatedClock,
    database_url: str,
    body: dict[str, str],
    status: int,
    field: str,
) -> None:
    order_id = issued(client, clock)
    response = client.post(f"/orders/{order_id}/presence-proofs", json=body, headers=SOCIAL_WORKER)
    assert response.status_code == status
    assert field in response.text
    assert "tattoo" not in response.text and "p9" not in response.text
    assert sql(database_url, "SELECT COUNT(*) FROM presence_secrets")[0][0] == 0
    assert (
        client.post(
            f"/orders/{order_id}/presence-proofs",
            json={"person_id": "p1", "kind": "app"},
            headers=READER,
        ).status_code
        == 403
    )


def test_an_order_not_in_force_takes_no_enrolment(
    client: TestClient, clock: SimulatedClock
) -> None:

    order_id = post(client, "/orders", request_json(clock()), SOCIAL_WORKER)["order_id"]
    response = client.post(
        f"/orders/{order_id}/presence-proofs",
        json={"person_id": "p1", "kind": "app"},
        headers=SOCIAL_WORKER,
    )
    assert response.status_code == 409
