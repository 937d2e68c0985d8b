"""The supervisors' queue of suspicious reports: the detectors' findings in the caller's
districts, the strongest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import access
from api.deps import MinPosition, PartsDep, UserDep, seen
from api.schemas.errors import responses
from api.schemas.reads import FindingInQueueOut, Page, page
from orders.values import Role, Strength
from projections.findings import FindingFilter

router = APIRouter(prefix="/findings", tags=["findings"])

Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many items.")]


@router.get(
    "",
    operation_id="list_findings",
    responses=responses(401, 403, 422, 503),
    openapi_extra=access.rule({Role.SUPERVISOR, Role.PROSECUTOR}),
)
def list_findings(
    parts: PartsDep,
    user: UserDep,
    x_min_position: MinPosition = None,
    reviewed: Annotated[
        bool, Query(description="Reviewed findings instead of those awaiting review.")
    ] = False,
    strength: Strength | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[FindingInQueueOut]:
    """Detectors' findings in your districts, the strongest first, then the most recent."""
    seen(parts, "findings", x_min_position)
    where = FindingFilter(
        reviewed=reviewed,
        strength=strength,
        within_districts=access.list_scope(user).get("within_districts"),
        limit=limit,
        offset=offset,
    )
    rows = parts.queries.findings.queue(where)
    total = parts.queries.findings.count(where)
    return page(FindingInQueueOut, rows, limit=limit, offset=offset, total=total)
