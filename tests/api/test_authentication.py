"""Every case route needs a signed, unexpired bearer token; health and OpenAPI do not."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.tokens import Tokens
from orders.values import Role
from service.cli import main
from service.settings import Settings, SettingsError
from tests.api.conftest import bearer


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "bearer token is required"),
        ({"Authorization": "Bearer not-a-jwt"}, "not valid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "bearer token is required"),
        (bearer("x", Role.SUPERVISOR, tokens=Tokens("another-key-" + "k" * 40)), "signature"),
        (bearer("x", Role.SUPERVISOR, lifetime=timedelta(minutes=-5)), "expired"),
    ],
)
def test_a_missing_malformed_forged_or_expired_token_is_401_with_the_reason(
    client: TestClient, headers: dict[str, str], reason: str
) -> None:
    response = client.get("/orders", headers=headers)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_health_and_the_openapi_document_need_no_token(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "HTTPBearer" in spec.json()["components"]["securitySchemes"]


def test_the_token_command_mints_a_token_the_api_accepts(
    client: TestClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROTECTION_ORDERS_ENV", raising=False)
    assert main(["token", "--role", "supervisor", "--district", "Lenin"]) == 0
    token = capsys.readouterr().out.strip()
    response = client.get("/orders", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_production_refuses_a_default_or_missing_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SettingsError, match="TOKEN_KEY"):
        Settings.from_env({"PROTECTION_ORDERS_ENV": "production"})
    with pytest.raises(SettingsError, match="TOKEN_KEY"):
        Settings.from_env(
            {"PROTECTION_ORDERS_ENV": "production", "PROTECTION_ORDERS_TOKEN_KEY": "short"}
        )
    monkeypatch.setenv("PROTECTION_ORDERS_ENV", "production")
    monkeypatch.delenv("PROTECTION_ORDERS_TOKEN_KEY", raising=False)
    assert main(["serve"]) == 2
    assert "TOKEN_KEY must be set" in capsys.readouterr().err
    signing_key = base64.b64encode(bytes(32)).decode()
    with pytest.raises(SettingsError, match="SIGNING_KEY must be set"):
        Settings.from_env(
            {"PROTECTION_ORDERS_ENV": "production", "PROTECTION_ORDERS_TOKEN_KEY": "s" * 64}
        )
    good = Settings.from_env(
        {
            "PROTECTION_ORDERS_ENV": "production",
            "PROTECTION_ORDERS_TOKEN_KEY": "s" * 64,
            "PROTECTION_ORDERS_SIGNING_KEY": signing_key,
        }
    )
    assert good.production
