"""Health and read-model lag, for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServiceDep
from api.schemas import HealthOut, LagOut

router = APIRouter(tags=["system"])


@router.get("/health")
def health(service: ServiceDep) -> HealthOut:
    """Whether the database answers, which policy is in force, and how far each view lags."""
    views = [
        LagOut(view=lag.view, position=lag.position, head=lag.head, behind=lag.behind)
        for lag in service.views.lag()
    ]
    engine = "postgresql" if service.views.db.postgres else "sqlite"
    return HealthOut(
        status="ok", database=engine, policy_version=service.orders.policy.version, views=views
    )
