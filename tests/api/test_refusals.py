"""Bad input and broken rules: a clear 404, 409 or 422, and nothing stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from service.bootstrap import Service
from tests.api.conftest import INSPECTOR, SOCIAL_WORKER, SUPERVISOR, issued
from tests.factories import request_json


@pytest.fixture
def stores_nothing(service: Service) -> Iterator[None]:
    head = service.views.head()
    yield
    assert service.views.head() == head, "a refused request stored an event"


def field_errors(response: object) -> dict[str, str]:
    body = response.json()  # type: ignore[attr-defined]
    return {e["field"].split(".")[-1]: e["reason"] for e in body["fields"]}


def test_an_unknown_order_is_404(client: TestClient) -> None:
    missing = uuid4()
    assert client.get(f"/orders/{missing}", headers=SUPERVISOR).status_code == 404
    response = client.post(
        f"/orders/{missing}/revocation", json={"reason": "x"}, headers=SUPERVISOR
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "no protection order with this id"
    assert str(missing) not in response.text  # an id the caller sent is never repeated
    assert client.get(f"/orders/{missing}/timeline", headers=SUPERVISOR).status_code == 404


def test_a_second_issuance_is_409_and_stores_nothing(
    client: TestClient,
    clock: SimulatedClock,
    service: Service,
) -> None:
    order_id = issued(client, clock)
    head = service.views.head()
    response = client.post(
        f"/orders/{order_id}/issue",
        headers=INSPECTOR,
        json={
            "kind": "temporary",
            "conditions": [],
            "protected_person_ids": ["p1"],
            "inspector_id": "x",
            "valid_from": clock().isoformat(),
        },
    )
    assert response.status_code == 409
    assert response.json()["error"] == "OrderAlreadyIssued"
    assert service.views.head() == head


@pytest.mark.usefixtures("stores_nothing")
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"incident_at": "2026-03-01T09:00:00"}, "incident_at"),  # no timezone
        ({"incident_at": "3026-03-01T09:00:00Z"}, "incident_at"),  # absurd
        ({"firearms_access": "maybe"}, "firearms_access"),
        ({"violence_types": []}, "violence_types"),
        # The server's, never the client's; a field not taken is named by the object that has
        # it (here the body itself), never by the name sent.
        ({"recorded_at": "2026-03-01T09:00:00Z"}, ""),
        ({"incident_narrative": "x" * 10_001}, "incident_narrative"),
        (
            {
                "protected_persons": [
                    {"person_id": "p1", "name": "A", "sex": "female", "birth_date": "2090-01-01"}
                ]
            },
            "birth_date",
        ),
    ],
)
def test_an_invalid_request_is_422_naming_the_field(
    client: TestClient,
    clock: SimulatedClock,
    change: dict[str, object],
    field: str,
) -> None:
    response = client.post("/orders", json=request_json(clock()) | change, headers=SOCIAL_WORKER)
    assert response.status_code == 422
    assert field in field_errors(response)


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        (
            lambda now: {"visited_at": (now + timedelta(hours=1)).isoformat()},
            {"visited_at": "lies in the future"},
        ),
        (
            lambda now: {"met_with": ["p1", "zz-9"]},
            {"met_with": "each must be the person_id of a person on the request"},
        ),
    ],
    ids=["claimed time in the future", "met someone not on the request"],
)
def test_a_visit_the_rules_refuse_is_422_naming_the_field_and_stores_nothing(
    client: TestClient,
    clock: SimulatedClock,
    service: Service,
    changes: Callable[[datetime], dict[str, Any]],
    refused: dict[str, str],
) -> None:
    order_id = issued(client, clock)
    head = service.views.head()
    visit = {"visited_at": clock().isoformat(), "met_with": [], "outcome": "person_safe"}
    body = visit | changes(clock())
    response = client.post(f"/orders/{order_id}/visits", headers=INSPECTOR, json=body)
    assert response.status_code == 422
    assert field_errors(response) == refused
    assert "zz-9" not in response.text  # what the caller sent is never repeated
    assert service.views.head() == head


def test_lowering_the_computed_risk_is_422_naming_final_level(
    client: TestClient,
    clock: SimulatedClock,
    service: Service,
) -> None:
    order_id = client.post("/orders", json=request_json(clock()), headers=SOCIAL_WORKER).json()[
        "order_id"
    ]
    head = service.views.head()
    response = client.post(
        f"/orders/{order_id}/risk-assessments",
        headers=INSPECTOR,
        json={"answers": {"threats_to_kill": True, "strangulation": True}, "final_level": "low"},
    )
    assert response.status_code == 422
    assert "final_level" in field_errors(response)
    assert service.views.head() == head


def test_a_refusal_never_echoes_the_sensitive_values_sent(
    client: TestClient, clock: SimulatedClock
) -> None:
    secret = "Shelter at 12 Chui Avenue"
    response = client.post(
        "/orders",
        headers=SOCIAL_WORKER,
        json=request_json(clock(), incident_narrative=secret, firearms_access="maybe"),
    )
    assert response.status_code == 422
    assert "Chui" not in response.text


def test_the_narrative_is_never_returned(client: TestClient, clock: SimulatedClock) -> None:
    order_id = issued(client, clock)
    bodies = [
        client.get(path, headers=SUPERVISOR).text
        for path in (f"/orders/{order_id}", f"/orders/{order_id}/timeline", "/orders")
    ]
    assert all("kitchen" not in body for body in bodies)


def test_a_request_without_a_token_is_401_and_stores_nothing(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    response = client.post("/orders", json=request_json(clock()))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "bearer token is required" in response.json()["detail"]
    assert service.views.head() == 0


def test_an_oversized_body_is_413_and_stores_nothing(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    body = request_json(clock(), incident_narrative="x" * 70_000)
    response = client.post("/orders", json=body, headers=SOCIAL_WORKER)
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    chunked = client.post(
        "/orders",
        content=(b"x" * 1000 for _ in range(70)),
        headers=SOCIAL_WORKER | {"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413
    assert service.views.head() == 0
