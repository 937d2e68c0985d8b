"""Every case route needs a signed, unexpired bearer token; health and OpenAPI do not."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.tokens import ISSUER, AuthenticationFailed, Tokens, User
from orders.values import Role
from service.bootstrap import Service
from service.cli import main
from service.settings import DEVELOPMENT_TOKEN_KEY, Settings, SettingsError
from tests.api.conftest import bearer

CANARY = "Zq7Canary"


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


def forged(**changes: Any) -> dict[str, str]:
    """A token signed with the service's own key, whose claims are not what it mints."""
    now = int(time.time())
    claims = {
        "sub": "chief-nurlan",
        "role": "supervisor",
        "districts": ["Lenin"],
        "iss": ISSUER,
        "iat": now,
        "exp": now + 3600,
    } | changes
    claims = {name: value for name, value in claims.items() if value is not None}
    return {"Authorization": f"Bearer {jwt.encode(claims, DEVELOPMENT_TOKEN_KEY, 'HS256')}"}


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (forged(districts=CANARY), "districts claim must be a list"),
        (forged(districts="*"), "districts claim must be a list"),  # once read as every district
        (forged(districts=[CANARY, 7]), "districts claim must be a list"),
        (forged(districts=[""]), "districts claim must be a list"),
        (forged(sub=""), "sub claim must be an account id"),
        (forged(sub="   "), "sub claim must be an account id"),
        (forged(sub=CANARY * 30), "sub claim must be an account id"),
        (forged(sub=7), "sub claim must be an account id"),
        (forged(role=CANARY), "unknown role"),
        (forged(role=[CANARY]), "unknown role"),
        (forged(iss=CANARY), "not issued by"),
        (forged(iat=None), "lacks the iat claim"),
        (forged(exp=int(time.time()) + 13 * 3600), "valid for longer than"),
        (forged(iat=int(time.time()) - 30 * 3600, exp=int(time.time()) + 3600), "longer than"),
        ({"Authorization": f"Bearer {CANARY}.{CANARY}.{CANARY}"}, "not a well-formed"),
    ],
)
def test_a_token_with_the_right_key_but_claims_out_of_shape_is_401_without_repeating_them(
    client: TestClient, headers: dict[str, str], reason: str
) -> None:
    response = client.get("/orders", headers=headers)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert CANARY.lower() not in response.text.lower()


def test_the_lifetime_cap_is_a_setting(service: Service) -> None:
    day = timedelta(hours=24)
    settings = Settings(token_max_hours=25)
    app = create_app(
        service.orders,
        service.queries,
        Tokens(DEVELOPMENT_TOKEN_KEY, max_lifetime=settings.token_max_lifetime),
    )
    with TestClient(app) as http:
        long_lived = forged(exp=int(time.time()) + int(day.total_seconds()))
        assert http.get("/orders", headers=long_lived).status_code == 200
    with pytest.raises(SettingsError, match="TOKEN_MAX_HOURS must be a positive number of hours"):
        Settings.from_env({"PROTECTION_ORDERS_TOKEN_MAX_HOURS": "0"})
    with pytest.raises(ValueError, match="at most"):
        Tokens(DEVELOPMENT_TOKEN_KEY).mint(
            User("chief-nurlan", Role.SUPERVISOR, frozenset({"Lenin"})),
            now=datetime.now(tz=UTC),
            lifetime=timedelta(hours=13),
        )


def test_a_token_accepted_before_is_refused_once_it_expires(client: TestClient) -> None:
    """Its verification is remembered (decision 027), its expiry is checked every time."""
    expires = int(time.time()) + 2
    short_lived = forged(exp=expires)
    assert client.get("/orders", headers=short_lived).status_code == 200
    assert client.get("/orders", headers=short_lived).status_code == 200  # remembered
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    response = client.get("/orders", headers=short_lived)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_refusal_is_not_remembered_and_another_key_refuses_what_one_accepted() -> None:
    user = User("chief-nurlan", Role.SUPERVISOR, frozenset({"Lenin"}))
    tokens = Tokens(DEVELOPMENT_TOKEN_KEY)
    early = jwt.encode(  # issued a second from now: not yet valid, then valid
        {"sub": user.id, "role": "supervisor", "districts": ["Lenin"], "iss": ISSUER}
        | {"iat": int(time.time()) + 1, "exp": int(time.time()) + 60},
        DEVELOPMENT_TOKEN_KEY,
        "HS256",
    )
    with pytest.raises(AuthenticationFailed, match="not yet valid"):
        tokens.verify(early)
    time.sleep(
        max(0.0, jwt.decode(early, options={"verify_signature": False})["iat"] - time.time()) + 0.05
    )
    assert tokens.verify(early) == user
    token = tokens.mint(user, now=datetime.now(tz=UTC), lifetime=timedelta(minutes=5))
    assert tokens.verify(token) == user
    with pytest.raises(AuthenticationFailed, match="signature"):
        Tokens("another-key-" + "k" * 40).verify(token)
