"""Health and read-model lag, for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PartsDep
from api.schemas.reads import HealthOut, LagOut

router = APIRouter(tags=["system"])


@router.get("/health", operation_id="health")
def health(parts: PartsDep) -> HealthOut:
    """Whether the database answers, which policy is in force, and how far each view lags."""
    views = parts.queries.views
    lags = [
        LagOut(view=lag.view, position=lag.position, head=lag.head, behind=lag.behind)
        for lag in views.lag()
    ]
    engine = "postgresql" if views.db.postgres else "sqlite"
    return HealthOut(
        status="ok", database=engine, policy_version=parts.orders.policy.version, views=lags
    )
