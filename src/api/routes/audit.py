"""The supervisors' audit of inspectors' check-ins, per inspector or district."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api import access
from api.deps import MinPosition, PartsDep, UserDep, seen
from api.schemas.errors import responses
from api.schemas.reads import AuditRowOut, Page, page
from orders.errors import InvalidInput
from orders.inputs import Moment
from orders.values import Role

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    operation_id="audit",
    responses=responses(401, 403, 422, 503),
    openapi_extra=access.rule({Role.SUPERVISOR, Role.PROSECUTOR}),
)
def audit(
    parts: PartsDep,
    user: UserDep,
    start: Annotated[Moment, Query(description="From this moment (inclusive).")],
    end: Annotated[Moment, Query(description="Until this moment (exclusive).")],
    by: Literal["inspector", "district"] = "inspector",
    x_min_position: MinPosition = None,
) -> Page[AuditRowOut]:
    """Visits due, made on time and late, missed, flagged, median delay and open alerts."""
    if end <= start:
        raise InvalidInput("end", "must be after start")
    for view in ("activity", "order_state"):  # the report reads both
        seen(parts, view, x_min_position)
    scope = access.list_scope(user).get("within_districts")
    report = parts.queries.audit.report(
        start=start,
        end=end,
        by="inspector_id" if by == "inspector" else "district",
        districts=scope if isinstance(scope, tuple) else None,
    )
    return page(AuditRowOut, report, limit=max(len(report), 1), offset=0, total=len(report))
