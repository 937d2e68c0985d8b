"""Idempotency-Key makes a retried command safe; If-Match refuses a decision on stale state."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from service.bootstrap import Service
from tests.api.conftest import INSPECTOR, SOCIAL_WORKER, issued
from tests.factories import request_json


def keyed(headers: dict[str, str], key: str, **more: str) -> dict[str, str]:
    return headers | {"Idempotency-Key": key} | more


def test_a_retried_request_returns_the_first_result_and_stores_nothing_twice(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    body = request_json(clock())
    first = client.post("/orders", json=body, headers=keyed(SOCIAL_WORKER, "req-1"))
    head = service.views.head()
    again = client.post("/orders", json=body, headers=keyed(SOCIAL_WORKER, "req-1"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert service.views.head() == head


def test_a_retried_command_returns_the_first_result_and_records_one_visit(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    order_id = issued(client, clock)
    visit = {"visited_at": clock().isoformat(), "met_with": ["p1"], "outcome": "person_safe"}
    url = f"/orders/{order_id}/visits"
    first = client.post(url, json=visit, headers=keyed(INSPECTOR, "visit-1"))
    clock.advance(timedelta(minutes=5))
    again = client.post(url, json=visit, headers=keyed(INSPECTOR, "visit-1"))
    assert again.status_code == 201
    assert again.json() == first.json()
    events = [
        e["event_type"]
        for e in client.get(f"/orders/{order_id}/timeline", headers=INSPECTOR).json()["items"]
    ]
    assert events.count("InspectionVisitRecorded") == 1


def test_a_retried_breach_report_returns_the_same_breach(
    client: TestClient, clock: SimulatedClock
) -> None:
    order_id = issued(client, clock)
    body = {"occurred_at": clock().isoformat(), "description": "called her"}
    first = client.post(f"/orders/{order_id}/breaches", json=body, headers=keyed(INSPECTOR, "b"))
    again = client.post(f"/orders/{order_id}/breaches", json=body, headers=keyed(INSPECTOR, "b"))
    assert again.json()["breach_id"] == first.json()["breach_id"]
    assert len(again.json()["order"]["breaches"]) == 1


def test_a_key_reused_for_another_request_is_422_and_stores_nothing(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    client.post("/orders", json=request_json(clock()), headers=keyed(SOCIAL_WORKER, "k"))
    head = service.views.head()
    other = request_json(clock(), district="Lenin", petitioner_name="Someone else")
    response = client.post("/orders", json=other, headers=keyed(SOCIAL_WORKER, "k"))
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "Idempotency-Key"
    assert service.views.head() == head


def test_the_same_key_sent_twice_at_once_stores_one_order(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    body = request_json(clock())
    results: list[Any] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        results.append(client.post("/orders", json=body, headers=keyed(SOCIAL_WORKER, "race")))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["order_id"] for r in results}) == 1
    assert len(service.orders.records.select_log_events()) == 1  # ids of the others: gaps


def test_if_match_with_a_stale_version_is_412_and_stores_nothing(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    order_id = issued(client, clock)
    seen = client.get(f"/orders/{order_id}", headers=INSPECTOR)
    etag = seen.headers["ETag"]
    assert etag == f'"{seen.json()["version"]}"'
    visit = {"visited_at": clock().isoformat(), "met_with": [], "outcome": "person_safe"}
    done = client.post(
        f"/orders/{order_id}/visits", json=visit, headers=INSPECTOR | {"If-Match": etag}
    )
    assert done.status_code == 201
    assert done.headers["ETag"] == f'"{seen.json()["version"] + 1}"'
    head = service.views.head()
    stale = client.post(
        f"/orders/{order_id}/visits", json=visit, headers=INSPECTOR | {"If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.json()["error"] == "VersionMismatch"
    assert service.views.head() == head
