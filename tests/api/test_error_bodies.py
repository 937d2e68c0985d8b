"""No answer repeats what the caller sent: a canary value through every route never comes back.

Routes and their parameters are read from the OpenAPI document, so a route added later is
covered too. Each parameter in turn carries the canary (a word, a well-formed id no order has,
and ten kilobytes of it); each body is a valid one whose every free text is the canary, then
one with a field of the canary's name, then one with each field replaced by the canary.
Besides, a path id of any length is refused quickly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orders.values import Role
from tests.api.conftest import SUPERVISOR, bearer
from tests.api.test_access_rules import ALLOWED
from tests.conftest import START

CANARY = "Zq7Canary"
CANARY_ID = "c0ffee00-0000-4000-8000-0000000c0de1"  # well-formed; no order or breach has it
LONG = CANARY * 1200  # about 10 kB
PREFERENCE = (Role.SUPERVISOR, Role.INSPECTOR, Role.SOCIAL_WORKER, Role.PROSECUTOR, Role.ADMIN)

Spec = dict[str, Any]


def caller(method: str, path: str) -> dict[str, str]:
    """A caller the route's rule admits, scoped to Lenin only (so other districts are out)."""
    allowed = ALLOWED.get((method, path), set())
    role = next((r for r in PREFERENCE if r in allowed), Role.SUPERVISOR)
    user_id = "insp-bakyt" if role is Role.INSPECTOR else f"canary-{role}"
    return bearer(user_id, role, "Lenin")


def resolve(spec: Spec, schema: Spec) -> Spec:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def text_for(schema: Spec) -> str:
    """The canary, or a text with the canary in it, where the schema's pattern allows one."""
    pattern = schema.get("pattern")
    for candidate in (CANARY, f"{CANARY}@example.org", "+996 555 000 111"):
        if pattern is None or re.search(pattern, candidate):
            return candidate
    return CANARY


def valid(spec: Spec, schema: Spec) -> Any:
    """A value the schema accepts, whose every free text carries the canary."""
    schema = resolve(spec, schema)
    if "anyOf" in schema:
        return valid(spec, next(s for s in schema["anyOf"] if s.get("type") != "null"))
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: valid(spec, sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [valid(spec, schema.get("items", {}))]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if schema.get("format") == "date-time":
        return START.isoformat()
    if schema.get("format") == "date":
        return "1990-01-01"
    return text_for(schema)


def bodies(spec: Spec, operation: Spec) -> Iterator[Any]:
    """A valid body full of canaries, one with an extra field, one with each field a canary."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        yield {CANARY: CANARY}
        return
    body = valid(spec, content["schema"])
    yield body
    yield body | {CANARY: CANARY}
    for name in body:
        yield body | {name: CANARY}
        yield body | {name: {CANARY: CANARY}}


def requests(spec: Spec, path: str, method: str, case: dict[str, str]) -> Iterator[Spec]:
    """Every request of one operation that carries the canary somewhere."""
    operation = spec["paths"][path][method]
    params = operation.get("parameters", [])
    real = {p["name"]: case[p["name"]] for p in params if p["in"] == "path"}
    if "finding_id" in real:
        real["finding_id"] = "00000000-0000-0000-0000-000000000000"
    plain = {"path": real, "query": {}, "headers": {}, "body": next(bodies(spec, operation))}
    for param in params:
        where, name = param["in"], param["name"]
        values = (CANARY, CANARY_ID, LONG) if where == "path" else (CANARY, LONG[:2000])
        for value in values:
            if where == "path":
                yield plain | {"path": real | {name: value}}
            elif where == "query":
                yield plain | {"query": {name: value}}
            else:
                yield plain | {"headers": {name: value}}
    yield plain | {"query": {CANARY: CANARY}}
    for body in bodies(spec, operation):
        yield plain | {"body": body}
    if "requestBody" in operation:
        yield plain | {"body": None, "content": f'{{"{CANARY}": '.encode()}


def send(client: TestClient, path: str, method: str, request: Spec) -> Any:
    headers = caller(method, path) | request["headers"]
    url = path.format(**request["path"])
    if "content" in request:
        headers["Content-Type"] = "application/json"
        return client.request(method, url, content=request["content"], headers=headers)
    json = None if method == "get" else request["body"]
    return client.request(method, url, params=request["query"], json=json, headers=headers)


def echoes(response: Any, request: Spec) -> bool:
    """Whether the answer repeats the canary, or an id of the request's path (real ones too)."""
    said = (response.text + " ".join(response.headers.values())).lower()
    sent = [CANARY.lower(), CANARY_ID, *(str(value).lower() for value in request["path"].values())]
    return any(value in said for value in sent)


def test_no_answer_of_any_route_repeats_a_value_the_caller_sent(
    client: TestClient, case: dict[str, str]
) -> None:
    spec: Spec = client.get("/openapi.json").json()
    echoed, sent = [], 0
    for path, operations in spec["paths"].items():
        for method in operations:
            for request in requests(spec, path, method, case):
                response = send(client, path, method, request)
                sent += 1
                if response.status_code < 400:
                    continue  # an answer may show what was stored, to those who may see it
                if echoes(response, request):
                    where = f"{method.upper()} {path} {response.status_code} {request}"[:300]
                    echoed.append(f"{where} -> {response.text[:300]}")
    assert sent > 400
    assert echoed == []


@pytest.mark.parametrize(
    "path",
    [
        "/orders/{id}",
        "/orders/{id}/timeline",
        "/orders/00000000-0000-0000-0000-000000000000/breaches/{id}/responses",
        "/staff/{id}",
    ],
)
def test_a_path_id_of_any_length_is_refused_quickly_and_not_repeated(
    client: TestClient, path: str
) -> None:
    headers = bearer("canary-admin", Role.ADMIN, "*") if path.startswith("/staff") else SUPERVISOR
    method = "POST" if path.endswith("responses") else "GET"
    for size in (37, 201, 10_000):
        long_id = ("z" + CANARY * size)[:size]
        started = time.monotonic()
        response = client.request(method, path.format(id=long_id), headers=headers)
        assert time.monotonic() - started < 1.0
        assert response.status_code in (404, 422), response.text
        assert CANARY.lower() not in response.text.lower()
