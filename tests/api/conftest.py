"""An HTTP client on the real ASGI app, and signed tokens for each kind of caller."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.tokens import Tokens, User
from orders.values import Role
from service.settings import DEVELOPMENT_TOKEN_KEY

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


@pytest.fixture
def client(service: object) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as test_client:  # type: ignore[arg-type]
        yield test_client
