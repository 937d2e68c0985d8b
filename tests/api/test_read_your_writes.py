"""Reads follow the log: a command says where it reached, a read may ask to see that far."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from orders.clock import SimulatedClock
from service.bootstrap import Service
from tests.api.conftest import SOCIAL_WORKER, SUPERVISOR, app_of
from tests.factories import request_json


def test_a_command_answers_with_the_log_position_a_read_can_wait_for(
    service: Service, clock: SimulatedClock
) -> None:
    service.views.start(interval=5.0)  # a slow follower: only a wait makes the read current
    try:
        with TestClient(app_of(service)) as http:  # a plain client: it sends no position itself
            created = http.post("/orders", json=request_json(clock()), headers=SOCIAL_WORKER)
            assert created.status_code == 201
            position = int(created.headers["X-Log-Position"])
            assert position == service.views.head()
            assert created.headers["ETag"] == '"1"'
            seen = http.get("/orders", headers=SUPERVISOR | {"X-Min-Position": str(position)})
            assert [o["order_id"] for o in seen.json()["items"]] == [created.json()["order_id"]]
            assert service.views.position("order_state") >= position
    finally:
        service.views.stop()


def test_a_position_beyond_the_log_and_an_unknown_query_parameter_are_422(
    client: TestClient,
) -> None:
    beyond = client.get("/orders", headers=SUPERVISOR | {"X-Min-Position": "999999"})
    assert beyond.status_code == 422
    assert beyond.json()["fields"][0]["field"] == "X-Min-Position"
    unknown = client.get("/orders", params={"overdeu": "true"}, headers=SUPERVISOR)
    assert unknown.status_code == 422
    (field,) = unknown.json()["fields"]
    assert field["location"] == "query" and "overdeu" not in unknown.text  # never repeated
    assert field["reason"].startswith("names a parameter this route does not take")
    assert "overdue" in field["reason"]  # the parameters it does take are listed


def test_a_read_whose_view_stays_behind_is_503_with_retry_after(
    service: Service, clock: SimulatedClock
) -> None:
    app = create_app(service.orders, service.queries, service.tokens, read_wait_seconds=0.2)
    with TestClient(app) as http:  # no follower runs: the views stay where they are
        created = http.post("/orders", json=request_json(clock()), headers=SOCIAL_WORKER)
        position = created.headers["X-Log-Position"]
        behind = http.get("/orders", headers=SUPERVISOR | {"X-Min-Position": position})
        assert behind.status_code == 503
        assert behind.headers["Retry-After"] == "1"
        assert behind.json()["error"] == "ReadModelBehind"
        assert http.get("/orders", headers=SUPERVISOR).json()["items"] == []  # as it stands


def test_the_order_list_pages_with_the_total_on_every_page(
    client: TestClient, clock: SimulatedClock
) -> None:
    made = [
        client.post("/orders", json=request_json(clock()), headers=SOCIAL_WORKER).json()
        for _ in range(3)
    ]
    pages = [
        client.get("/orders", params={"limit": 2, "offset": offset}, headers=SUPERVISOR).json()
        for offset in (0, 2, 5)  # the last past the end
    ]
    assert [page["total"] for page in pages] == [3, 3, 3]
    assert [len(page["items"]) for page in pages] == [2, 1, 0]
    listed = [o["order_id"] for page in pages for o in page["items"]]
    assert sorted(listed) == sorted(order["order_id"] for order in made)
