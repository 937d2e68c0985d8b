"""A supervisor's work queue over HTTP: open alerts in scope, oldest first, acknowledged there."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from orders.values import Role
from scheduler.sweep import sweep
from service.bootstrap import Service
from tests.api.conftest import INSPECTOR, SUPERVISOR, bearer, issued, post

OTHER_SUPERVISOR = bearer("chief-other", Role.SUPERVISOR, "Oktyabr")
NOTE = "NOTE-CANARY: I am sending a patrol to her sister's house"


def queue(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    response = client.get("/alerts", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_the_queue_shows_open_alerts_in_scope_oldest_first_until_acknowledged(
    client: TestClient, service: Service, clock: SimulatedClock
) -> None:
    first = issued(client, clock)  # a 3-day temporary order at high risk
    clock.advance(timedelta(hours=5))
    second = issued(client, clock)
    # Past both orders' end-of-order check-in, and past the inspector's rung for the first.
    clock.advance(timedelta(days=3, hours=2, minutes=1))
    sweep(service.orders, service.views, service.deadlines)
    assert service.views.wait(service.views.head(), projection="alerts", timeout=10)
    mine = queue(client, INSPECTOR)  # his own orders' alerts, wherever they stand
    assert [(a["order_id"], a["addressee"]) for a in mine] == [
        (first, "supervisor"),
        (second, "inspector"),
    ]
    seen = queue(client, SUPERVISOR)
    assert [(a["order_id"], a["kind"], a["rung"], a["addressee"]) for a in seen] == [
        (first, "missed_check_in", 2, "supervisor"),
        (second, "missed_check_in", 1, "inspector"),
    ]
    assert seen[0]["waited_hours"] == 5.02  # since its deadline passed: 5 h 1 min
    assert seen[0]["late_to_acknowledge"] is False
    assert queue(client, OTHER_SUPERVISOR) == []

    alert = seen[0]["alert_id"]
    path = f"/orders/{first}/alerts/{alert}/acknowledgement"
    refused = client.post(path, json={"note": NOTE}, headers=INSPECTOR)
    assert refused.status_code == 409
    assert refused.json()["error"] == "AlertAboveYourRung"
    done = post(client, path, {"note": NOTE}, SUPERVISOR)
    assert NOTE not in str(done)
    assert [a["order_id"] for a in queue(client, SUPERVISOR)] == [second]
    timeline = client.get(f"/orders/{first}/timeline", headers=SUPERVISOR).json()["items"]
    assert timeline[-1]["event_type"] == "AlertAcknowledged"
    assert NOTE not in str(timeline)
