"""Open orders and read them: current state, lists with filters, timelines."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api import access
from api.deps import OptionsDep, ServiceDep, UserDep
from api.refresh import refreshed, tagged
from api.schemas import (
    ERRORS,
    NO_NUL,
    ConfidentialOut,
    DisclosureOut,
    Moment,
    OrderOut,
    OrderSummaryOut,
    RequestIn,
    TimelineEntryOut,
    rows,
)
from orders import errors
from orders.values import RiskLevel, Status
from projections.order_state import OrderFilter

AsOf = Annotated[
    Moment | None,
    Query(description="A past moment: answer as the record stood then (recorded times)."),
]

router = APIRouter(prefix="/orders", tags=["orders"], responses=ERRORS)


@router.post("", status_code=201)
def request_order(
    body: RequestIn, service: ServiceDep, user: UserDep, options: OptionsDep, response: Response
) -> OrderOut:
    """Open a new order from a petitioner's request."""
    access.check_district(user, body.district)
    order = service.orders.request(body.to_domain(), by=user.actor, key=options.get("key"))
    return refreshed(service, response, order)


@router.get("")
def list_orders(
    service: ServiceDep,
    user: UserDep,
    status: Status | None = None,
    district: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    risk_level: RiskLevel | None = None,
    inspector_id: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[OrderSummaryOut]:
    """List orders from the current-state read model; `overdue` means a check-in is late."""
    where = OrderFilter(
        status=status,
        district=district,
        risk_level=risk_level,
        inspector_id=inspector_id,
        overdue=overdue,
        limit=limit,
        offset=offset,
        **access.list_scope(user),  # type: ignore[arg-type]
    )
    return rows(OrderSummaryOut, service.states.find(where, now=service.orders.now()))


@router.get("/{order_id}")
def get_order(
    order_id: UUID, service: ServiceDep, user: UserDep, response: Response, as_of: AsOf = None
) -> OrderOut:
    """One order's state from its own events (as the record stood at `as_of`, if given)."""
    if as_of is not None:
        return OrderOut.of(service.orders.as_of(order_id, as_of))
    order = service.orders.get(order_id)
    tagged(response, order)
    return OrderOut.of(order)


@router.get("/{order_id}/timeline")
def get_timeline(
    order_id: UUID, service: ServiceDep, user: UserDep, as_of: AsOf = None
) -> list[TimelineEntryOut]:
    """Every event of the order in log order, with claimed and recorded times; with `as_of`,
    only what had been recorded by then."""
    entries = service.timelines.of(order_id, as_of=as_of)
    if not entries:
        service.orders.get(order_id)  # 404 if there is no such order
        service.views.catch_up()
        entries = service.timelines.of(order_id, as_of=as_of)
    if not entries:
        raise errors.OrderNotFound(order_id, at=as_of)
    return rows(TimelineEntryOut, entries)


@router.get("/{order_id}/confidential")
def get_confidential(order_id: UUID, service: ServiceDep, user: UserDep) -> ConfidentialOut:
    """The order's sensitive fields (locations, narratives, positions); each read is recorded."""
    return ConfidentialOut.of(service.orders.read_confidential(order_id, by=user.actor))


@router.get("/{order_id}/disclosures")
def get_disclosures(order_id: UUID, service: ServiceDep, user: UserDep) -> list[DisclosureOut]:
    """Who has seen this order's sensitive fields, in which role, and when."""
    service.views.catch_up()
    return rows(DisclosureOut, service.disclosures.of(order_id))
