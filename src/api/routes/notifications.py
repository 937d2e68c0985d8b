"""The outbox as admins see it: each message's key, kind, channel and delivery state.

Never a message's address or body: those are looked up and rendered only by the worker that
sends them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import access
from api.deps import MinPosition, PartsDep, UserDep, seen
from api.schemas.errors import responses
from api.schemas.notifications import NotificationOut
from api.schemas.reads import Page, page
from orders.values import Role
from projections.outbox import DeliveryStatus

Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many items.")]

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get(
    "",
    operation_id="list_notifications",
    responses=responses(401, 403, 422, 503),
    openapi_extra=access.rule({Role.ADMIN}),
)
def list_notifications(
    parts: PartsDep,
    user: UserDep,
    x_min_position: MinPosition = None,
    status: DeliveryStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[NotificationOut]:
    """The outbox's messages, newest first, and how each one's delivery stands."""
    seen(parts, "notifications", x_min_position)
    rows, total = parts.queries.outbox.page(status=status, limit=limit, offset=offset)
    return page(NotificationOut, rows, limit=limit, offset=offset, total=total)
