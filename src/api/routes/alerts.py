"""The work queue: open alerts and escalations in the caller's scope, oldest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import access
from api.deps import MinPosition, PartsDep, UserDep, seen
from api.schemas.errors import responses
from api.schemas.reads import AlertOut, Page, page
from orders.alerting import AlertKind
from orders.values import Role
from projections.alerts import AlertFilter, waited

router = APIRouter(prefix="/alerts", tags=["alerts"])

Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many items.")]


@router.get(
    "",
    operation_id="list_alerts",
    responses=responses(401, 403, 422, 503),
    openapi_extra=access.rule({Role.INSPECTOR, Role.SUPERVISOR, Role.PROSECUTOR}),
)
def list_alerts(
    parts: PartsDep,
    user: UserDep,
    x_min_position: MinPosition = None,
    kind: AlertKind | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AlertOut]:
    """Open alerts in your scope, the one waiting longest first, with its rung and wait."""
    seen(parts, "alerts", x_min_position)
    scope = access.list_scope(user)
    where = AlertFilter(
        kind=kind,
        within_districts=scope.get("within_districts"),
        inspector_id=user.id if user.role is Role.INSPECTOR else None,
        limit=limit,
        offset=offset,
    )
    now = parts.orders.now()
    rows = parts.queries.alerts.open(where)
    for row in rows:
        row["rung"] += 1
        row["waited_hours"] = round(waited(row, now), 2)
        row["late_to_acknowledge"] = now > row["acknowledge_by"]
    total = parts.queries.alerts.count_open(where)
    return page(AlertOut, rows, limit=limit, offset=offset, total=total)
