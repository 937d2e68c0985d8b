"""docs/roles.md says what the routes' declared rules say, and the rules come from the commands."""

from __future__ import annotations

from pathlib import Path

from api.roles_doc import roles_markdown
from orders.commands import OFFERED
from service.bootstrap import Service
from tests.api.conftest import app_of

ROLES_MD = Path(__file__).parents[2] / "docs" / "roles.md"


def test_docs_roles_md_is_what_the_routes_declare(service: Service) -> None:
    generated = roles_markdown(app_of(service).openapi())
    assert ROLES_MD.read_text(encoding="utf-8") == generated, (
        "docs/roles.md is out of date: run `python -m service.roles_doc > docs/roles.md`"
    )


def test_each_command_route_is_named_summarised_and_ruled_by_its_declaration(
    service: Service,
) -> None:
    spec = app_of(service).openapi()
    operations = {op["operationId"]: op for ops in spec["paths"].values() for op in ops.values()}
    for command in OFFERED:
        name = "".join("_" + c.lower() if c.isupper() else c for c in command.__name__)[1:]
        operation = operations[name]
        assert operation["summary"] == command.purpose()
        assert set(operation["x-roles"]) == {role.value for role in command.may}
