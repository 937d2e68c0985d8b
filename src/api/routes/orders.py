"""Reads of orders: current state, lists with filters, timelines, the audited confidential read."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api import access
from api.deps import MinPosition, PartsDep, UserDep, seen
from api.schemas.errors import responses
from api.schemas.orders import ConfidentialOut, OrderOut
from api.schemas.reads import DisclosureOut, OrderSummaryOut, Page, TimelineEntryOut, page
from orders import errors
from orders.disclosure import SENSITIVE_READERS
from orders.domain import ProtectionOrder
from orders.inputs import NO_NUL, Moment
from orders.values import RiskLevel, Role, Status
from projections.database import Row
from projections.order_state import OrderFilter

SW, INSP, SUP, PROS, READER = (
    Role.SOCIAL_WORKER,
    Role.INSPECTOR,
    Role.SUPERVISOR,
    Role.PROSECUTOR,
    Role.READER,
)
AsOf = Annotated[
    Moment | None,
    Query(description="A past moment: answer as the record stood then (recorded times)."),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many items.")]

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get(
    "",
    operation_id="list_orders",
    responses=responses(401, 403, 422, 503),
    openapi_extra=access.rule({SW, INSP, SUP, PROS, READER}),
)
async def list_orders(
    parts: PartsDep,
    user: UserDep,
    x_min_position: MinPosition = None,
    status: Status | None = None,
    district: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    risk_level: RiskLevel | None = None,
    inspector_id: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    overdue: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[OrderSummaryOut]:
    """List orders from the current-state read model; `overdue` means a check-in is late."""

    def read() -> tuple[list[Row], int]:  # on a worker thread: it reads
        seen(parts, "order_state", x_min_position)
        where = OrderFilter(
            status=status,
            district=district,
            risk_level=risk_level,
            inspector_id=inspector_id,
            overdue=overdue,
            limit=limit,
            offset=offset,
            **access.list_scope(user),
        )
        return parts.queries.states.page(where, now=parts.orders.now())

    rows, total = await run_in_threadpool(read)
    return page(OrderSummaryOut, rows, limit=limit, offset=offset, total=total)


@router.get(
    "/{order_id}",
    operation_id="get_order",
    responses=responses(401, 403, 404, 422),
    openapi_extra=access.rule({SW, INSP, SUP, PROS, READER}),
)
async def get_order(
    order_id: UUID,
    parts: PartsDep,
    user: UserDep,
    request: Request,
    response: Response,
    as_of: AsOf = None,
) -> OrderOut:
    """One order's state from its own events (as the record stood at `as_of`, if given)."""
    if as_of is not None:
        return OrderOut.of(await run_in_threadpool(parts.orders.as_of, order_id, as_of))
    order: ProtectionOrder | None = getattr(request.state, "checked_order", None)
    if order is None:
        order = await run_in_threadpool(parts.orders.get, order_id)
    response.headers["ETag"] = f'"{order.version}"'
    return OrderOut.of(order)


@router.get(
    "/{order_id}/timeline",
    operation_id="get_timeline",
    responses=responses(401, 403, 404, 422, 503),
    openapi_extra=access.rule({SW, INSP, SUP, PROS}),
)
def get_timeline(
    order_id: UUID,
    parts: PartsDep,
    user: UserDep,
    x_min_position: MinPosition = None,
    as_of: AsOf = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Page[TimelineEntryOut]:
    """Every event of the order in log order, with claimed and recorded times; with `as_of`,
    only what had been recorded by then."""
    seen(parts, "timeline", x_min_position)
    entries = parts.queries.timelines.of(order_id, as_of=as_of)
    if not entries and as_of is not None:
        raise errors.OrderNotFound(order_id, at=as_of)
    chosen = entries[offset : offset + limit]
    return page(TimelineEntryOut, chosen, limit=limit, offset=offset, total=len(entries))


@router.get(
    "/{order_id}/confidential",
    operation_id="get_confidential",
    responses=responses(401, 403, 404, 422),
    openapi_extra=access.rule(SENSITIVE_READERS),
)
def get_confidential(
    order_id: UUID, parts: PartsDep, user: UserDep, response: Response
) -> ConfidentialOut:
    """The order's sensitive fields (locations, narratives, positions); each read is recorded."""
    outcome = parts.orders.read_confidential(order_id, by=user.actor)
    if outcome.position is not None:
        response.headers["X-Log-Position"] = str(outcome.position)
    history = parts.orders.events.get(order_id, lte=outcome.order.version)
    return ConfidentialOut.of(outcome.order, history)


@router.get(
    "/{order_id}/disclosures",
    operation_id="get_disclosures",
    responses=responses(401, 403, 404, 422, 503),
    openapi_extra=access.rule({SUP, PROS}),
)
def get_disclosures(
    order_id: UUID,
    parts: PartsDep,
    user: UserDep,
    x_min_position: MinPosition = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Page[DisclosureOut]:
    """Who has seen this order's sensitive fields, in which role, and when."""
    seen(parts, "disclosures", x_min_position)
    rows = parts.queries.disclosures.of(order_id)
    chosen = rows[offset : offset + limit]
    return page(DisclosureOut, chosen, limit=limit, offset=offset, total=len(rows))
