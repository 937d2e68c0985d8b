"""A planted canary address, narrative and position never leak, and every read is recorded.

The canary is entered through the API like any case; then every route is called by every role
and every response body and every captured log line is scanned for it. Only the audited
confidential read, by a role entitled to it, may return it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from orders.values import Role
from tests.api.conftest import INSPECTOR, SOCIAL_WORKER, SUPERVISOR, bearer, post
from tests.api.test_access_rules import ALLOWED, IN_SCOPE, call
from tests.factories import request_json

CANARY = "CANARY-7f3a"
ADDRESS = f"Shelter {CANARY}, 12 Chui Avenue"
LATITUDE = 42.8765431  # a position fix is as sensitive as an address
CONFIDENTIAL_READERS = {Role.SOCIAL_WORKER, Role.INSPECTOR, Role.PROSECUTOR}


@pytest.fixture
def case(client: TestClient, clock: SimulatedClock) -> dict[str, str]:
    body = request_json(clock(), incident_narrative=f"narrative {CANARY}")
    body["protected_persons"][0]["locations"] = [{"kind": "shelter", "address": ADDRESS}]
    order_id = post(client, "/orders", body, SOCIAL_WORKER)["order_id"]
    o = f"/orders/{order_id}"
    post(client, o + "/risk-assessments", {"answers": {"threats_to_kill": True}})
    post(
        client,
        o + "/issue",
        {
            "kind": "temporary",
            "conditions": ["no_contact"],
            "protected_person_ids": ["p1"],
            "inspector_id": "insp-bakyt",
            "valid_from": clock().isoformat(),
        },
    )
    clock.advance(timedelta(hours=1))
    post(
        client,
        o + "/visits",
        {
            "visited_at": clock().isoformat(),
            "met_with": ["p1"],
            "outcome": "person_safe",
            "notes": f"notes {CANARY}",
            "position": {"latitude": LATITUDE, "longitude": 74.59},
        },
    )
    breach = post(
        client,
        o + "/breaches",
        {"occurred_at": clock().isoformat(), "description": f"breach {CANARY}"},
    )
    escalation = post(client, o + "/escalations", {"target": "supervisor", "reason": "x"})
    contact = post(
        client,
        o + "/contacts",
        {"person_id": "p1", "channel": "email", "address": f"{CANARY}@example.org"},
    )
    return {
        "order_id": order_id,
        "breach_id": breach["breach_id"],
        "escalation_id": escalation["escalation_id"],
        "finding_id": "no-such-finding",
        "alert_id": "00000000-0000-0000-0000-000000000000",
        "proposal_id": "00000000-0000-0000-0000-000000000000",
        "contact_id": contact["contact_id"],
        "staff_id": "insp-bakyt",
    }


def test_sensitive_fields_reach_only_the_audited_read_of_an_entitled_role(
    client: TestClient, case: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    leaks = []
    for (method, path), allowed in ALLOWED.items():
        for role, (user_id, district) in IN_SCOPE.items():
            body = call(client, method, path, case, bearer(user_id, role, district)).text
            revealing = path.endswith("/confidential") and role in allowed
            if (CANARY in body or str(LATITUDE) in body) and not revealing:
                leaks.append(f"{method.upper()} {path} as {role}")
    assert leaks == []
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert str(LATITUDE) not in record.getMessage()


def test_entitled_roles_see_the_fields_and_others_see_them_marked_redacted(
    client: TestClient, case: dict[str, str]
) -> None:
    o = f"/orders/{case['order_id']}"
    revealed = client.get(o + "/confidential", headers=INSPECTOR).json()
    assert revealed["protected_persons"][0]["locations"] == [
        {"kind": "shelter", "address": ADDRESS, "position": None}
    ]
    assert revealed["visits"][0]["position"]["latitude"] == LATITUDE
    for role in (Role.SUPERVISOR, Role.READER, Role.ADMIN):
        user_id, district = IN_SCOPE[role]
        denied = client.get(o + "/confidential", headers=bearer(user_id, role, district))
        assert denied.status_code == 403
    reader = client.get(o, headers=bearer("registry", Role.READER, "*")).json()
    assert "protected_persons.locations" in reader["redacted"]
    assert "incident_narrative" in reader["redacted"]


def test_who_has_seen_the_protected_addresses_has_an_answer(
    client: TestClient, case: dict[str, str], clock: SimulatedClock
) -> None:
    o = f"/orders/{case['order_id']}"
    assert client.get(o + "/disclosures", headers=SUPERVISOR).json()["items"] == []
    client.get(o + "/confidential", headers=INSPECTOR)
    clock.advance(timedelta(minutes=7))
    client.get(o + "/confidential", headers=bearer("pros", Role.PROSECUTOR, "Lenin"))
    client.get(o, headers=SUPERVISOR)  # an ordinary read discloses nothing
    seen = client.get(o + "/disclosures", headers=SUPERVISOR).json()["items"]
    assert [(d["actor_id"], d["actor_role"]) for d in seen] == [
        ("insp-bakyt", "inspector"),
        ("pros", "prosecutor"),
    ]
    assert "protected_persons.locations" in seen[0]["fields"]
    assert seen[1]["read_at"] > seen[0]["read_at"]
    assert CANARY not in str(seen)
    history = client.get(o + "/timeline", headers=SUPERVISOR).json()["items"]
    assert all(e["event_type"] != "Recorded" for e in history)  # not in the order's stream
