"""Health and read-model lag, for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PartsDep
from api.schemas.notifications import DeliveriesOut
from api.schemas.reads import HealthOut, LagOut

router = APIRouter(tags=["system"])


@router.get("/health", operation_id="health")
def health(parts: PartsDep) -> HealthOut:
    """Whether the database answers, which policy is in force, how far each view lags, and
    how the notifications' deliveries stand (what waits, for how long, what failed)."""
    views = parts.queries.views
    lags = [
        LagOut(view=lag.view, position=lag.position, head=lag.head, behind=lag.behind)
        for lag in views.lag()
    ]
    engine = "postgresql" if views.db.postgres else "sqlite"
    backlog = parts.queries.outbox.backlog()
    oldest = backlog.oldest_pending_at
    waited = None if oldest is None else (parts.orders.now() - oldest).total_seconds()
    deliveries = DeliveriesOut(
        pending=backlog.pending,
        failing=backlog.failing,
        undeliverable=backlog.undeliverable,
        withdrawn=backlog.withdrawn,
        stale=backlog.stale,
        oldest_pending_seconds=None if waited is None else max(waited, 0.0),
    )
    return HealthOut(
        status="ok",
        database=engine,
        policy_version=parts.orders.policy.version,
        views=lags,
        deliveries=deliveries,
        checkpoint_refusals=len(parts.orders.records.select_checkpoint_refusals()),
    )
