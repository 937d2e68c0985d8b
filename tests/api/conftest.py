"""An HTTP client on the real ASGI app, and signed tokens for each kind of caller."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.tokens import Tokens, User
from orders.clock import SimulatedClock
from orders.values import Role
from service.bootstrap import Service
from service.settings import DEVELOPMENT_TOKEN_KEY
from tests.factories import request_json

TOKENS = Tokens(DEVELOPMENT_TOKEN_KEY)


def bearer(
    user_id: str,
    role: Role,
    *districts: str,
    lifetime: timedelta = timedelta(hours=1),
    tokens: Tokens = TOKENS,
) -> dict[str, str]:
    user = User(user_id, role, frozenset(districts or ("Lenin",)))
    token = tokens.mint(user, now=datetime.now(tz=UTC), lifetime=lifetime)
    return {"Authorization": f"Bearer {token}"}


SOCIAL_WORKER = bearer("sw-aigerim", Role.SOCIAL_WORKER)
INSPECTOR = bearer("insp-bakyt", Role.INSPECTOR)
SUPERVISOR = bearer("chief-nurlan", Role.SUPERVISOR)
PROSECUTOR = bearer("pros-region", Role.PROSECUTOR, "Lenin", "Oktyabr")
READER = bearer("court-registry", Role.READER, "*")


class ReadingClient(TestClient):
    """An HTTP client that reads its own writes: each read asks to see at least the log
    position the client's last command reached (its X-Log-Position), as a browser session
    would."""

    position = 0

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if method.upper() == "GET" and self.position:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-Min-Position", str(self.position))
            kwargs["headers"] = headers
        response = super().request(method, url, **kwargs)
        if "X-Log-Position" in response.headers:
            self.position = max(self.position, int(response.headers["X-Log-Position"]))
        return response


def app_of(service: Service) -> Any:
    return create_app(service.orders, service.queries, service.tokens)


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    service.views.start(interval=0.05)  # the follower keeps the read models, as in service
    try:
        with ReadingClient(app_of(service)) as test_client:
            yield test_client
    finally:
        service.views.stop()


HIGH = {"threats_to_kill": True, "strangulation": True}


def post(
    client: TestClient,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] = INSPECTOR,
) -> dict[str, Any]:
    response = client.post(path, json=body or {}, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def issued(client: TestClient, clock: SimulatedClock, **terms: Any) -> str:
    order = post(client, "/orders", request_json(clock()), SOCIAL_WORKER)
    order_id: str = order["order_id"]
    post(client, f"/orders/{order_id}/risk-assessments", {"answers": HIGH})
    post(
        client,
        f"/orders/{order_id}/issue",
        {
            "kind": "temporary",
            "conditions": ["no_contact"],
            "protected_person_ids": ["p1", "p2"],
            "inspector_id": "insp-bakyt",
            "valid_from": clock().isoformat(),
        }
        | terms,
    )
    return order_id


@pytest.fixture
def case(client: TestClient, clock: SimulatedClock) -> dict[str, str]:
    """An issued order in Lenin assigned to insp-bakyt, with a breach and an escalation."""
    order_id = issued(client, clock)
    clock.advance(timedelta(hours=1))
    breach = post(
        client,
        f"/orders/{order_id}/breaches",
        {"occurred_at": clock().isoformat(), "description": "x"},
        INSPECTOR,
    )
    escalation = post(
        client,
        f"/orders/{order_id}/escalations",
        {"target": "supervisor", "reason": "x"},
        SOCIAL_WORKER,
    )
    return {
        "order_id": order_id,
        "breach_id": breach["breach_id"],
        "escalation_id": escalation["escalation_id"],
        "finding_id": "no-such-finding",
        "alert_id": "00000000-0000-0000-0000-000000000000",
        "proposal_id": "00000000-0000-0000-0000-000000000000",
        "contact_id": "00000000-0000-0000-0000-000000000000",
        "staff_id": "insp-bakyt",
    }
