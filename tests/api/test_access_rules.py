"""Every route in the OpenAPI document, for every role, in and out of scope.

The expected table below is written from docs/roles.md, not read from the code: a route added
without a rule, or a rule that drifts from the table, fails here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from api.deps import authorised_user
from orders.values import Role
from service.bootstrap import Service
from tests.api.conftest import INSPECTOR, app_of, bearer
from tests.conftest import START
from tests.factories import request_json

SW, INSP, SUP, PROS, READER, ADMIN = (
    Role.SOCIAL_WORKER,
    Role.INSPECTOR,
    Role.SUPERVISOR,
    Role.PROSECUTOR,
    Role.READER,
    Role.ADMIN,
)
ALLOWED: dict[tuple[str, str], set[Role]] = {
    ("post", "/orders"): {SW, INSP},
    ("get", "/orders"): {SW, INSP, SUP, PROS, READER},
    ("get", "/orders/{order_id}"): {SW, INSP, SUP, PROS, READER},
    ("get", "/orders/{order_id}/timeline"): {SW, INSP, SUP, PROS},
    ("get", "/orders/{order_id}/confidential"): {SW, INSP, PROS},
    ("get", "/orders/{order_id}/disclosures"): {SUP, PROS},
    ("post", "/orders/{order_id}/risk-assessments"): {INSP, SUP},
    ("post", "/orders/{order_id}/issue"): {INSP, SUP},
    ("post", "/orders/{order_id}/service"): {INSP},
    ("post", "/orders/{order_id}/visits"): {INSP},
    ("post", "/orders/{order_id}/breaches"): {SW, INSP, SUP},
    ("post", "/orders/{order_id}/breaches/{breach_id}/responses"): {INSP, SUP},
    ("post", "/orders/{order_id}/escalations"): {SW, INSP, SUP},
    ("post", "/orders/{order_id}/escalations/{escalation_id}/acknowledgement"): {SUP, PROS},
    ("post", "/orders/{order_id}/extension"): {SUP},
    ("post", "/orders/{order_id}/modification"): {SUP},
    ("post", "/orders/{order_id}/revocation"): {SUP, PROS},
    ("post", "/orders/{order_id}/deaths"): {SW, INSP, SUP, PROS},
    ("post", "/orders/{order_id}/findings/{finding_id}/review"): {SUP},
    ("post", "/orders/{order_id}/alerts/{alert_id}/acknowledgement"): {INSP, SUP, PROS},
    ("post", "/orders/{order_id}/contacts"): {SW, INSP, SUP},
    ("post", "/orders/{order_id}/presence-proofs"): {SW},
    ("post", "/orders/{order_id}/contacts/{contact_id}/withdrawal"): {SW, INSP, SUP},
    ("post", "/orders/{order_id}/risk-lowerings/{proposal_id}/approval"): {SUP},
    ("post", "/orders/{order_id}/risk-lowerings/{proposal_id}/rejection"): {SUP, PROS},
    ("get", "/audit"): {SUP, PROS},
    ("get", "/alerts"): {INSP, SUP, PROS},
    ("get", "/findings"): {SUP, PROS},
    ("post", "/staff"): {ADMIN},
    ("get", "/staff"): {ADMIN},
    ("get", "/staff/{staff_id}"): {ADMIN},
    ("put", "/staff/{staff_id}"): {ADMIN},
    ("get", "/notifications"): {ADMIN},
}
UNSCOPED = {path for _, path in ALLOWED if path.startswith(("/staff", "/notifications"))}
"""Routes about no order or district: a role they admit is admitted whatever its districts."""
PUBLIC = {("get", "/health")}
IN_SCOPE = {
    SW: ("sw-aigerim", "Lenin"),
    INSP: ("insp-bakyt", "Lenin"),
    SUP: ("chief", "Lenin"),
    PROS: ("pros", "Lenin"),
    READER: ("registry", "*"),
    ADMIN: ("admin", "*"),
}
OUT_OF_SCOPE = {
    SW: ("sw-other", "Oktyabr"),
    INSP: ("insp-other", "Oktyabr"),
    SUP: ("chief-other", "Oktyabr"),
    PROS: ("pros-other", "Oktyabr"),
    READER: ("registry-other", "Oktyabr"),
    ADMIN: ("admin", "Oktyabr"),
}


def routes(client: TestClient) -> set[tuple[str, str]]:
    spec: dict[str, Any] = client.get("/openapi.json").json()
    return {(method, path) for path, ops in spec["paths"].items() for method in ops}


def call(
    client: TestClient, method: str, path: str, case: dict[str, str], headers: dict[str, str]
) -> Any:
    url = path.format(**case)
    if method == "get":
        return client.get(url, headers=headers)
    body = request_json(START) if path == "/orders" else {}  # valid: only scope can refuse it
    return client.request(method.upper(), url, json=body, headers=headers)


def test_every_route_has_an_expected_rule(client: TestClient) -> None:
    assert routes(client) == set(ALLOWED) | PUBLIC


def test_every_route_refuses_a_caller_without_a_token(
    client: TestClient, case: dict[str, str]
) -> None:
    for method, path in ALLOWED:
        assert call(client, method, path, case, {}).status_code == 401, (method, path)


def test_every_route_for_every_role_in_and_out_of_scope(
    client: TestClient, case: dict[str, str]
) -> None:
    failures = []
    for (method, path), allowed in ALLOWED.items():
        for role in Role:
            if role is Role.SYSTEM:
                continue
            for scope, (user_id, district) in (("in", IN_SCOPE[role]), ("out", OUT_OF_SCOPE[role])):
                response = call(client, method, path, case, bearer(user_id, role, district))
                status = response.status_code
                ok = _as_expected(role in allowed, scope, method, path, response, case)
                if not ok:
                    failures.append(f"{method.upper()} {path} {role} {scope}-scope: {status}")
    assert failures == []


def _as_expected(
    allowed: bool, scope: str, method: str, path: str, response: Any, case: dict[str, str]
) -> bool:
    status = response.status_code
    if not allowed:
        return bool(status == 403)
    if scope == "in":
        return status not in (401, 403)
    if (method, path) == ("get", "/orders"):  # a list shows only what is in scope
        return status == 200 and case["order_id"] not in response.text
    if (method, path) in (("get", "/audit"), ("get", "/alerts"), ("get", "/findings")):  # scope
        return status not in (401, 403)
    if path in UNSCOPED:
        return status not in (401, 403)
    return bool(status == 403)


def test_a_route_added_without_a_rule_refuses_everyone(service: Service) -> None:
    app = app_of(service)
    extra = APIRouter()

    @extra.get("/orders/{order_id}/secret-route")
    def secret_route(order_id: str) -> dict[str, str]:
        """A route somebody forgot to give a rule."""
        return {"leaked": "yes"}

    app.include_router(extra, dependencies=[Depends(authorised_user)])
    with TestClient(app) as client:
        for role, (user_id, district) in IN_SCOPE.items():
            response = client.get(
                "/orders/00000000-0000-0000-0000-000000000000/secret-route",
                headers=bearer(user_id, role, district),
            )
            assert response.status_code == 403, role
            assert "no access rule" in response.json()["detail"]


def test_an_inspector_acts_only_on_orders_assigned_to_them(
    client: TestClient, case: dict[str, str]
) -> None:
    colleague = bearer("insp-other", INSP, "Lenin")  # same district, not assigned
    order = f"/orders/{case['order_id']}"
    assert client.get(order, headers=colleague).status_code == 403
    visit = {"visited_at": START.isoformat(), "met_with": [], "outcome": "person_safe"}
    assert client.post(order + "/visits", json=visit, headers=colleague).status_code == 403
    listed = client.get("/orders", headers=colleague).json()["items"]
    assert case["order_id"] not in {row["order_id"] for row in listed}
    assert client.get(order, headers=INSPECTOR).status_code == 200
