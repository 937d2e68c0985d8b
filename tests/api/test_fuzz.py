"""Property-based fuzz of the whole API from its own OpenAPI document (schemathesis).

Each operation is called by a role allowed to call it, on a real order, with bodies,
queries and headers generated from the schema (valid and invalid). No answer may be a 5xx,
and every answer must match what the document says of it (status, content type, schema).
Schema-invalid input must be refused. Schema-valid input may still be refused: the rules go
further than JSON Schema can say (a birth date not after today, a claimed time not in the
future, a visit only on an order in force), so that one stock check is left out.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from orders.values import Role
from tests.api.conftest import bearer
from tests.api.test_access_rules import ALLOWED

EXAMPLES_PER_OPERATION = 30
PREFERENCE = (
    Role.SUPERVISOR,
    Role.INSPECTOR,
    Role.SOCIAL_WORKER,
    Role.PROSECUTOR,
    Role.READER,
    Role.ADMIN,
)


def caller(method: str, path: str) -> dict[str, str]:
    allowed = ALLOWED.get((method.lower(), path), set())
    role = next((r for r in PREFERENCE if r in allowed), Role.SUPERVISOR)
    user_id = "insp-bakyt" if role is Role.INSPECTOR else f"fuzz-{role}"
    return bearer(user_id, role, "*")


def fuzz(strategy: Any, real: dict[str, str], tried: dict[str, int], label: str) -> None:
    """Call one operation with generated cases; real ids stand in for generated ones."""

    @settings(
        derandomize=not os.environ.get("PROTECTION_ORDERS_FUZZ_RANDOM"),
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        for name, value in real.items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
        case.call_and_validate(
            headers=caller(case.method, case.path), excluded_checks=[positive_data_acceptance]
        )
        tried[label] += 1

    run()


def test_the_api_never_fails_nor_breaks_its_own_schema(
    client: TestClient, case: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    real = case
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    tried: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        tried[operation.label] = 0
        fuzz(operation.as_strategy(), real, tried, operation.label)
    total = sum(tried.values())
    with capsys.disabled():
        print(f"\nschemathesis: {total} cases over {len(tried)} operations")
    assert len(tried) == len(ALLOWED) + 1  # every operation, health included
    assert total >= 5 * len(tried)
