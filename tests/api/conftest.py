"""An HTTP client on the real ASGI app, over a service on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from service.bootstrap import Service

SOCIAL_WORKER = {"X-Actor-Id": "sw-aigerim", "X-Actor-Role": "social_worker"}
INSPECTOR = {"X-Actor-Id": "insp-bakyt", "X-Actor-Role": "inspector"}
SUPERVISOR = {"X-Actor-Id": "chief-nurlan", "X-Actor-Role": "supervisor"}


@pytest.fixture
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as test_client:
        yield test_client
