"""Who may call which route, and on which orders. A route with no rule refuses everyone.

Scope: social workers, supervisors, prosecutors and readers act on orders of the districts in
their token ("*" for all). An inspector acts on orders assigned to them, and on orders of their
districts that are not yet issued (to assess and issue them). Admins see no case content.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import HTTPException, Request

from api.tokens import ALL_DISTRICTS, User
from orders.domain import ProtectionOrder
from orders.values import Role
from service.bootstrap import Service

SW, INSP, SUP, PROS, READER = (
    Role.SOCIAL_WORKER,
    Role.INSPECTOR,
    Role.SUPERVISOR,
    Role.PROSECUTOR,
    Role.READER,
)

RULES: dict[str, frozenset[Role]] = {
    "request_order": frozenset({SW, INSP}),
    "list_orders": frozenset({SW, INSP, SUP, PROS, READER}),
    "get_order": frozenset({SW, INSP, SUP, PROS, READER}),
    "get_timeline": frozenset({SW, INSP, SUP, PROS}),
    "get_confidential": frozenset({SW, INSP, PROS}),
    "get_disclosures": frozenset({SUP, PROS}),
    "assess_risk": frozenset({INSP, SUP}),
    "issue": frozenset({INSP, SUP}),
    "serve": frozenset({INSP}),
    "record_visit": frozenset({INSP}),
    "report_breach": frozenset({SW, INSP, SUP}),
    "respond_to_breach": frozenset({INSP, SUP}),
    "escalate": frozenset({SW, INSP, SUP}),
    "acknowledge_escalation": frozenset({SUP, PROS}),
    "extend": frozenset({SUP}),
    "modify": frozenset({SUP}),
    "revoke": frozenset({SUP, PROS}),
    "report_death": frozenset({SW, INSP, SUP, PROS}),
    "review_finding": frozenset({SUP}),
    "audit": frozenset({SUP, PROS}),
}


def forbidden(reason: str) -> HTTPException:
    return HTTPException(status_code=403, detail=reason)


def check_route(request: Request, user: User) -> None:
    """Refuse unless the route has a rule that admits the user's role."""
    route = request.scope.get("route")
    name = getattr(route, "name", "")
    roles = RULES.get(name)
    if roles is None:
        raise forbidden(f"no access rule for {name or 'this route'}: refused to everyone")
    if user.role not in roles:
        raise forbidden(f"the {user.role} role may not {name.replace('_', ' ')}")


def check_order(service: Service, order_id: UUID, user: User) -> ProtectionOrder:
    """Refuse unless the order is within the user's scope; returns the order."""
    order = service.orders.get(order_id)
    if not in_scope(order, user):
        raise forbidden(f"order {order_id} is outside your scope")
    return order


def in_scope(order: ProtectionOrder, user: User) -> bool:
    if not user.covers(order.request.district):
        return False
    if user.role is Role.INSPECTOR:
        return order.terms is None or order.terms.inspector_id == user.id
    return True


def list_scope(user: User) -> dict[str, object]:
    """The narrowing of a list of orders to the user's scope, as OrderFilter fields."""
    scope: dict[str, object] = {}
    if ALL_DISTRICTS not in user.districts:
        scope["within_districts"] = tuple(sorted(user.districts))
    if user.role is Role.INSPECTOR:
        scope["assigned_to_or_unassigned"] = user.id
    return scope


def check_district(user: User, district: str) -> None:
    if not user.covers(district):
        raise forbidden(f"district {district} is outside your scope")
