"""Proof of presence over HTTP: the inspector whose visits her codes prove never holds them."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from tests.api.conftest import INSPECTOR, SUPERVISOR, issued, post


def test_the_inspector_whose_visits_are_proven_is_not_handed_her_secret(
    client: TestClient, clock: SimulatedClock
) -> None:
    """EnrolPresenceProof.may includes the inspector, and the answer carries the secret (or
    the whole card). A forging inspector enrols a new proof "for her" (her own is revoked
    without her knowing), keeps the secret, and every visit he never made is "code proven":
    the detector for high-threat orders is then satisfied too."""
    order_id = issued(client, clock)
    response = client.post(
        f"/orders/{order_id}/presence-proofs",
        json={"person_id": "p1", "kind": "app"},
        headers=INSPECTOR,
    )
    if response.status_code == 403:
        return  # what should happen
    secret = response.json()["secret"]
    clock.advance(timedelta(days=1))
    body = {"visited_at": clock().isoformat(), "met_with": ["p1"], "outcome": "person_safe"}
    post(
        client, f"/orders/{order_id}/visits", body | {"proof_code": pyotp.TOTP(secret).at(clock())}
    )
    rows = client.get(f"/orders/{order_id}/timeline", headers=SUPERVISOR).json()["items"]
    said = [r["summary"] for r in rows if r["event_type"] == "InspectionVisitRecorded"]
    assert "proof: code proven" not in said[0], "the inspector proved his own visit"
