"""Over HTTP: a reassessment that would lower the level in force is a proposal until a second
supervisor approves it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from orders.values import Role
from tests.api.conftest import SUPERVISOR, bearer, issued, post

OTHER_SUPERVISOR = bearer("chief-aida", Role.SUPERVISOR)


def test_a_supervisors_reassessment_with_no_answers_lowers_nothing_alone(
    client: TestClient, clock: SimulatedClock
) -> None:
    order_id = issued(client, clock)  # high
    o = f"/orders/{order_id}"
    unreasoned = client.post(o + "/risk-assessments", json={"answers": {}}, headers=SUPERVISOR)
    assert unreasoned.status_code == 422
    assert [f["field"] for f in unreasoned.json()["fields"]] == ["reason"]
    proposed = post(
        client, o + "/risk-assessments", {"answers": {}, "reason": "he left"}, SUPERVISOR
    )
    assert proposed["risk_level"] == "high"  # still in force
    timeline = client.get(o + "/timeline", headers=SUPERVISOR).json()["items"]
    assert timeline[-1]["event_type"] == "RiskLoweringProposed"
    assert proposed["risk_lowering"]["level"] == "low"
    assert proposed["risk_lowering"]["proposed_by"] == "chief-nurlan"
    proposal_id = proposed["risk_lowering"]["proposal_id"]
    path = f"{o}/risk-lowerings/{proposal_id}/approval"
    same = client.post(path, json={}, headers=SUPERVISOR)
    assert same.status_code == 409
    assert same.json()["error"] == "LoweringNeedsAnotherPerson"
    approved = post(client, path, {}, OTHER_SUPERVISOR)
    assert approved["risk_level"] == "low"
    assert approved["risk_lowering"] is None
    again = client.post(path, json={}, headers=OTHER_SUPERVISOR)
    assert again.status_code == 409
