"""An order's whole life through HTTP: each command answers 201 with the new state."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from tests.api.conftest import SOCIAL_WORKER, SUPERVISOR, issued, post


def test_an_order_lives_its_whole_life_through_the_api(
    client: TestClient, clock: SimulatedClock
) -> None:
    order_id = issued(client, clock)
    o = f"/orders/{order_id}"
    clock.advance(timedelta(hours=1))
    served = post(client, o + "/service", {"served_at": clock().isoformat(), "method": "in_person"})
    assert served["served_at"] is not None
    clock.advance(timedelta(hours=1))
    visit = post(
        client,
        o + "/visits",
        {
            "visited_at": clock().isoformat(),
            "met_with": ["p1"],
            "outcome": "person_safe",
            "proof_code": "4711",
        },
    )
    assert visit["check_in_due"] is None  # the only window of a 3-day order is met
    breach = post(
        client,
        o + "/breaches",
        {"occurred_at": clock().isoformat(), "description": "phoned her 20 times"},
    )
    assert breach["order"]["breaches"][0]["enforceable"] is True
    breach_id = breach["breach_id"]
    post(
        client,
        f"{o}/breaches/{breach_id}/responses",
        {"response": "offence_protocol", "responded_at": clock().isoformat()},
    )
    escalation = post(
        client, o + "/escalations", {"target": "supervisor", "reason": "repeat"}, SOCIAL_WORKER
    )
    acked = post(
        client, f"{o}/escalations/{escalation['escalation_id']}/acknowledgement", headers=SUPERVISOR
    )
    assert acked["escalations"][0]["acknowledged"] is True
    extended = post(
        client,
        o + "/extension",
        {"valid_until": (clock() + timedelta(days=20)).isoformat(), "reason": "ongoing threat"},
        SUPERVISOR,
    )
    assert extended["check_in_due"] is not None  # new windows until the new end
    post(
        client,
        o + "/modification",
        {
            "conditions": ["no_contact", "no_firearms"],
            "protected_person_ids": ["p1"],
            "reason": "court",
        },
        SUPERVISOR,
    )
    revoked = post(client, o + "/revocation", {"reason": "superseded by court order"}, SUPERVISOR)
    assert revoked["status"] == "revoked"

    timeline = client.get(o + "/timeline", headers=SUPERVISOR).json()["items"]
    assert [e["event_type"] for e in timeline] == [
        "Requested",
        "RiskAssessed",
        "Issued",
        "Served",
        "InspectionVisitRecorded",
        "BreachReported",
        "BreachResponded",
        "Escalated",
        "AlertRaised",  # an escalation is an alert on its ladder, until acknowledged
        "AlertAcknowledged",
        "EscalationAcknowledged",
        "Extended",
        "Modified",
        "Revoked",
    ]
    assert timeline[-1]["actor_role"] == "supervisor"
    listed = client.get("/orders", params={"status": "revoked"}, headers=SUPERVISOR).json()["items"]
    assert [row["order_id"] for row in listed] == [order_id]
    assert client.get(o, headers=SUPERVISOR).json()["version"] == 14


def test_overdue_orders_can_be_listed(client: TestClient, clock: SimulatedClock) -> None:
    order_id = issued(client, clock)
    assert client.get("/orders", params={"overdue": True}, headers=SUPERVISOR).json()["items"] == []
    clock.advance(timedelta(days=3, hours=3))
    overdue = client.get("/orders", params={"overdue": True}, headers=SUPERVISOR).json()["items"]
    assert [row["order_id"] for row in overdue] == [order_id]


def test_health_reports_the_database_the_policy_and_the_lag(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok"
    assert health["database"] in ("sqlite", "postgresql")
    assert {v["view"] for v in health["views"]} == {
        "order_state",
        "timeline",
        "deadlines",
        "disclosures",
        "activity",
        "alerts",
        "findings",
        "notifications",
    }


def test_the_openapi_document_describes_every_command_and_its_refusals(
    client: TestClient,
) -> None:
    spec = client.get("/openapi.json").json()
    commands = [
        (path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method == "post" and path.startswith("/orders")
    ]
    assert len(commands) == 20  # the commands, and the enrolment of a proof of presence
    for path, op in commands:
        assert {"201", "422"} <= set(op["responses"]), path
        assert op.get("description") or op.get("summary"), path


def test_the_record_as_it_stood_at_a_past_moment(client: TestClient, clock: SimulatedClock) -> None:
    before_issue = clock()
    order_id = issued(client, clock)  # all three events recorded at the same moment
    clock.advance(timedelta(hours=2))
    post(
        client,
        f"/orders/{order_id}/visits",
        {"visited_at": clock().isoformat(), "met_with": [], "outcome": "person_safe"},
    )
    then = (clock() - timedelta(hours=1)).isoformat()
    past = client.get(f"/orders/{order_id}", params={"as_of": then}, headers=SUPERVISOR).json()
    assert past["version"] == 3
    now = client.get(f"/orders/{order_id}", headers=SUPERVISOR).json()
    assert now["version"] == 4
    timeline = client.get(
        f"/orders/{order_id}/timeline", params={"as_of": then}, headers=SUPERVISOR
    ).json()["items"]
    assert [e["event_type"] for e in timeline] == ["Requested", "RiskAssessed", "Issued"]
    too_early = (before_issue - timedelta(days=1)).isoformat()
    missing = client.get(f"/orders/{order_id}", params={"as_of": too_early}, headers=SUPERVISOR)
    assert missing.status_code == 404
