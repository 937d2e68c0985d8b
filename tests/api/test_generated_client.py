"""A client generated from /openapi.json by openapi-python-client drives a whole order's life.

The generator must read the document without a warning; its functions must bear the short
operation ids; ids must come back as UUIDs; every refusal must parse into the generated ErrorOut.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from service.bootstrap import Service, bootstrap
from service.settings import Settings
from tests.api.conftest import INSPECTOR, SOCIAL_WORKER, SUPERVISOR, ReadingClient, app_of
from tests.conftest import START
from tests.factories import request_json

PACKAGE = "protection_orders_client"
# The generator lives in a venv of its own: its Typer pin differs from the service's.
TOOLS = Path(__file__).parents[2] / ".venv-generator"
GENERATOR = TOOLS / "bin" / "openapi-python-client"
LIFECYCLE = {
    "request_order",
    "assess_risk",
    "issue_order",
    "record_service",
    "record_visit",
    "report_breach",
    "respond_to_breach",
    "escalate",
    "acknowledge_escalation",
    "extend_order",
    "revoke_order",
    "list_orders",
    "get_timeline",
    "get_order",
}


def served_document(folder: Path) -> dict[str, Any]:
    """/openapi.json as the app serves it, from an app on a throwaway SQLite file."""
    service = bootstrap(
        Settings(database_url=f"sqlite:///{folder}/spec.db"), clock=SimulatedClock(START)
    )
    try:
        with TestClient(app_of(service)) as http:
            response = http.get("/openapi.json")
    finally:
        service.close()
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def installed() -> None:
    """Install openapi-python-client into its own venv, once per checkout."""
    if GENERATOR.exists():
        return
    steps = [
        [sys.executable, "-m", "venv", str(TOOLS)],
        [str(TOOLS / "bin" / "python"), "-m", "pip", "install", "-q", "openapi-python-client"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, f"could not install the generator:\n{done.stderr}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The generated package's folder, importable as PACKAGE while the module's tests run."""
    folder = tmp_path_factory.mktemp("generated_client")
    spec = folder / "spec.json"
    spec.write_text(json.dumps(served_document(folder)), encoding="utf-8")
    installed()
    venv_bin = os.pathsep.join([str(GENERATOR.parent), str(Path(sys.executable).parent)])
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(folder / PACKAGE),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        env=os.environ | {"PATH": venv_bin + os.pathsep + os.environ.get("PATH", "")},
        timeout=300,
        check=False,
    )
    said = run.stdout + run.stderr
    assert run.returncode == 0, f"openapi-python-client failed:\n{said}"
    assert not re.search(r"warning|error", said, re.IGNORECASE), (
        f"openapi-python-client complained about the document:\n{said}"
    )
    sys.path.insert(0, str(folder))
    try:
        yield folder / PACKAGE
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operations(package: Path) -> dict[str, ModuleType]:
    """Each generated operation module by its name (api/<tag>/<operation>.py)."""
    return {
        path.stem: importlib.import_module(f"{PACKAGE}.api.{path.parent.name}.{path.stem}")
        for path in sorted((package / "api").glob("*/*.py"))
        if path.stem != "__init__"
    }


def as_caller(app: Any, headers: dict[str, str], stack: ExitStack) -> Any:
    """The generated client for one caller, sending through a TestClient on the real app.

    set_httpx_client replaces the generated client's own httpx client, headers and all, so the
    caller's token travels on the TestClient (which reads its own writes, as a browser would).
    """
    client_module = importlib.import_module(f"{PACKAGE}.client")
    token = headers["Authorization"].removeprefix("Bearer ")
    caller = client_module.AuthenticatedClient(
        base_url="http://testserver", token=token, raise_on_unexpected_status=True
    )
    caller.set_httpx_client(ReadingClient(app, headers=headers))
    return stack.enter_context(caller)


def answered(result: Any, expected: type) -> Any:
    assert isinstance(result, expected), result
    return result


def test_the_generator_names_each_operation_by_its_short_operation_id(generated: Path) -> None:
    named = operations(generated)
    assert set(named) >= LIFECYCLE
    for name in named:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", name), name
        assert not re.search(r"_(get|post|put|patch|delete)$", name), name
    assert (generated / "api" / "order_commands" / "record_visit.py").exists()


def test_an_order_lives_its_whole_life_through_the_generated_client(
    generated: Path, client: TestClient, service: Service, clock: SimulatedClock
) -> None:
    op = operations(generated)
    m = importlib.import_module(f"{PACKAGE}.models")
    with ExitStack() as stack:
        social_worker = as_caller(client.app, SOCIAL_WORKER, stack)
        inspector = as_caller(client.app, INSPECTOR, stack)
        supervisor = as_caller(client.app, SUPERVISOR, stack)

        body = m.RequestOrderBody.from_dict(request_json(clock()))
        order = answered(op["request_order"].sync(client=social_worker, body=body), m.OrderOut)
        order_id = order.order_id
        assert isinstance(order_id, UUID)

        questions = set(service.orders.policy.risk_instrument.questions)
        assert set(m.RiskAnswers.__annotations__) - {"additional_properties"} == questions
        answers = m.RiskAnswers(threats_to_kill=True, strangulation=True)
        assessed = op["assess_risk"].sync(
            order_id, client=inspector, body=m.AssessRiskBody(answers=answers)
        )
        assert answered(assessed, m.OrderOut).risk_level == m.RiskLevel.HIGH

        terms = m.IssueOrderBody(
            kind=m.OrderKind.TEMPORARY,
            conditions=[m.Condition.NO_CONTACT],
            protected_person_ids=["p1", "p2"],
            inspector_id="insp-bakyt",
            valid_from=clock(),
        )
        issued = op["issue_order"].sync(order_id, client=inspector, body=terms)
        assert answered(issued, m.OrderOut).status == m.Status.ISSUED
        again = op["issue_order"].sync_detailed(order_id, client=inspector, body=terms)
        assert again.status_code == 409
        assert answered(again.parsed, m.ErrorOut).error == m.ErrorOutError.ORDERALREADYISSUED

        clock.advance(timedelta(hours=1))
        service_body = m.RecordServiceBody(served_at=clock(), method=m.ServiceMethod.IN_PERSON)
        served = op["record_service"].sync(order_id, client=inspector, body=service_body)
        assert answered(served, m.OrderOut).served_at is not None

        clock.advance(timedelta(hours=1))
        visit = m.RecordVisitBody(
            visited_at=clock(),
            met_with=["p1"],
            outcome=m.VisitOutcome.PERSON_SAFE,
            proof_code="4711",
        )
        visited = op["record_visit"].sync(order_id, client=inspector, body=visit)
        assert answered(visited, m.OrderOut).check_in_due is None

        breach_body = m.ReportBreachBody(occurred_at=clock(), description="phoned her 20 times")
        breach = op["report_breach"].sync(order_id, client=inspector, body=breach_body)
        breach_id = answered(breach, m.ReportBreachOut).breach_id
        assert isinstance(breach_id, UUID)
        assert breach.order.breaches[0].enforceable is True

        response = m.RespondToBreachBody(
            response=m.BreachResponseKind.OFFENCE_PROTOCOL, responded_at=clock()
        )
        responded = op["respond_to_breach"].sync(
            order_id, breach_id, client=inspector, body=response
        )
        answered(responded, m.OrderOut)

        target = m.EscalateBody(target=m.EscalationTarget.SUPERVISOR, reason="repeat")
        escalation = op["escalate"].sync(order_id, client=social_worker, body=target)
        escalation_id = answered(escalation, m.EscalateOut).escalation_id
        assert isinstance(escalation_id, UUID)
        acked = op["acknowledge_escalation"].sync(order_id, escalation_id, client=supervisor)
        assert answered(acked, m.OrderOut).escalations[0].acknowledged is True

        longer = m.ExtendOrderBody(valid_until=clock() + timedelta(days=20), reason="ongoing")
        extended = op["extend_order"].sync(order_id, client=supervisor, body=longer)
        assert answered(extended, m.OrderOut).check_in_due is not None

        listed = answered(op["list_orders"].sync(client=supervisor), m.PageOrderSummaryOut)
        assert listed.total == 1
        assert [row.order_id for row in listed.items] == [order_id]
        timeline = answered(
            op["get_timeline"].sync(order_id, client=supervisor), m.PageTimelineEntryOut
        )
        assert [entry.event_type for entry in timeline.items][-3:] == [
            "AlertAcknowledged",  # the escalation's alert, at its rung
            "EscalationAcknowledged",
            "Extended",
        ]

        unreasoned = op["revoke_order"].sync_detailed(
            order_id, client=supervisor, body=m.RevokeOrderBody(reason="")
        )
        assert unreasoned.status_code == 422
        refusal = answered(unreasoned.parsed, m.ErrorOut)
        assert [field.field for field in refusal.fields] == ["reason"]

        revoked = op["revoke_order"].sync(
            order_id, client=supervisor, body=m.RevokeOrderBody(reason="superseded by court")
        )
        assert answered(revoked, m.OrderOut).status == m.Status.REVOKED
        final = answered(op["get_order"].sync(order_id, client=supervisor), m.OrderOut)
        assert final.status == m.Status.REVOKED
        assert final.version == 13  # the escalation was an alert: raised, then resolved
        ended = op["list_orders"].sync(client=supervisor, status=m.Status.REVOKED)
        assert [row.order_id for row in answered(ended, m.PageOrderSummaryOut).items] == [order_id]
