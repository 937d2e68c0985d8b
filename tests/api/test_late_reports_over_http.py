"""Reports after an order ended: taken as late for the policy's reporting period, then refused
with 409, and nothing stored."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from scheduler.sweep import sweep
from service.bootstrap import Service
from tests.api.conftest import INSPECTOR, SUPERVISOR, issued, post

DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def a_visit(claimed: object) -> dict[str, object]:
    return {"visited_at": claimed, "met_with": ["p1"], "outcome": "person_safe"}


def test_a_report_after_the_order_ended_is_late_then_refused_after_the_reporting_period(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    start = clock()
    order_id = issued(client, clock)  # temporary: three days, its only window due at the end
    o = f"/orders/{order_id}"
    end = start + 3 * DAY
    period = service.orders.policy.late_report_period
    clock.set(end + 3 * HOUR)
    service.views.catch_up()
    result = sweep(service.orders, service.views, service.deadlines)
    assert (result.missed_check_ins, result.expired) == (1, 1)

    clock.set(end + period)  # the last moment reports are taken
    late = post(client, o + "/visits", a_visit((end - HOUR).isoformat()))
    assert (late["status"], late["late_reports"], late["missed_check_ins"]) == ("expired", 1, 1)
    listed = client.get("/orders", params={"overdue": True}, headers=SUPERVISOR).json()["items"]
    assert [(row["order_id"], row["late_reports"]) for row in listed] == [(order_id, 1)]

    clock.advance(timedelta(seconds=1))
    head, version = service.views.head(), client.get(o, headers=SUPERVISOR).json()["version"]
    refused = client.post(o + "/visits", json=a_visit((end - HOUR).isoformat()), headers=INSPECTOR)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["error"] == "ReportingPeriodOver"
    assert (end + period).isoformat() in body["detail"]
    assert service.views.head() == head  # nothing stored
    assert client.get(o, headers=SUPERVISOR).json()["version"] == version


def test_a_report_after_the_end_must_still_claim_a_time_in_the_orders_validity(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    start = clock()
    order_id = issued(client, clock)
    clock.set(start + 3 * DAY + HOUR)
    head = service.views.head()
    refused = client.post(
        f"/orders/{order_id}/visits",
        json=a_visit((start + 3 * DAY + HOUR).isoformat()),
        headers=INSPECTOR,
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "ClaimedTimeOutOfRange"
    assert service.views.head() == head
