"""The supervisors' queue of findings over HTTP: in scope, the strongest first, then the most
recent; a reviewed finding leaves it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from orders.commands import FlagReport
from orders.values import SYSTEM_ACTOR, Role, Strength
from service.bootstrap import Service
from tests.api.conftest import INSPECTOR, PROSECUTOR, SUPERVISOR, bearer, issued, post

OTHER_SUPERVISOR = bearer("chief-other", Role.SUPERVISOR, "Oktyabr")


def queue(client: TestClient, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    response = client.get("/findings" + query, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def flag(service: Service, order_id: str, version: int, rule: str, strength: Strength) -> None:
    """What the detectors do when a rule finds the report at `version` suspicious."""
    finding = FlagReport(
        rule=rule, strength=strength, evidence=f"{rule}, {strength}", flagged_version=version
    )
    service.orders.handle(finding, UUID(order_id), by=SYSTEM_ACTOR)


def test_the_queue_ranks_findings_by_strength_then_recency_within_scope(
    client: TestClient, service: Service, clock: SimulatedClock
) -> None:
    order_id = issued(client, clock)
    clock.advance(timedelta(hours=2))
    body = {"visited_at": clock().isoformat(), "met_with": ["p1"], "outcome": "person_safe"}
    version = post(client, f"/orders/{order_id}/visits", body)["version"]
    for rule, strength in [
        ("without_position", Strength.WEAK),
        ("cover_up", Strength.STRONG),
        ("one_place", Strength.MODERATE),
        ("impossible_travel", Strength.STRONG),
    ]:
        clock.advance(timedelta(minutes=10))
        flag(service, order_id, version, rule, strength)
    assert service.views.wait(service.views.head(), projection="findings", timeout=10)

    ranked = [(f["rule"], f["strength"]) for f in queue(client, SUPERVISOR)]
    assert ranked == [
        ("impossible_travel", "strong"),  # the later of the two strong ones first
        ("cover_up", "strong"),
        ("one_place", "moderate"),
        ("without_position", "weak"),
    ]
    first = queue(client, SUPERVISOR)[0]
    assert first["order_id"] == order_id
    assert first["district"] == "Lenin"
    assert first["inspector_id"] == "insp-bakyt"
    assert first["flagged_version"] == version
    assert first["evidence"] == "impossible_travel, strong"
    assert [f["rule"] for f in queue(client, PROSECUTOR)] == [rule for rule, _ in ranked]
    assert [f["rule"] for f in queue(client, SUPERVISOR, "?strength=weak")] == ["without_position"]
    assert queue(client, OTHER_SUPERVISOR) == []
    assert client.get("/findings", headers=INSPECTOR).status_code == 403

    # Reviewed, a finding leaves the queue for the list of reviewed ones.
    post(
        client,
        f"/orders/{order_id}/findings/{first['finding_id']}/review",
        {"decision": "dismissed", "reason": "two neighbours, visited together"},
        SUPERVISOR,
    )
    assert [f["rule"] for f in queue(client, SUPERVISOR)] == [rule for rule, _ in ranked[1:]]
    (reviewed,) = queue(client, SUPERVISOR, "?reviewed=true")
    assert (reviewed["finding_id"], reviewed["decision"]) == (first["finding_id"], "dismissed")

    # The order itself shows each finding's strength.
    order = client.get(f"/orders/{order_id}", headers=SUPERVISOR).json()
    assert [f["strength"] for f in order["findings"]] == ["weak", "strong", "moderate", "strong"]
