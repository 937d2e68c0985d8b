"""The supervisors' audit of inspectors' check-ins, per inspector or district."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api import access
from api.deps import ServiceDep, UserDep
from api.schemas import ERRORS, AuditRowOut, Moment, rows
from orders.errors import InvalidInput

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERRORS)


@router.get("")
def audit(
    service: ServiceDep,
    user: UserDep,
    start: Annotated[Moment, Query(description="From this moment (inclusive).")],
    end: Annotated[Moment, Query(description="Until this moment (exclusive).")],
    by: Literal["inspector", "district"] = "inspector",
) -> list[AuditRowOut]:
    """Visits due, made on time and late, missed, flagged, median delay and open alerts."""
    if end <= start:
        raise InvalidInput("end", "must be after start")
    service.views.catch_up()
    scope = access.list_scope(user).get("within_districts")
    districts = scope if isinstance(scope, tuple) else None
    report = service.audit.report(
        start=start,
        end=end,
        by="inspector_id" if by == "inspector" else "district",
        districts=districts,
    )
    return rows(AuditRowOut, report)
