"""Who may call which route, and on which orders. A route with no rule refuses everyone.

A route's rule is the `x-roles` it declares in its OpenAPI operation: for a command, the roles
its declaration in orders.commands names; for a read, the roles given where the route is
defined. docs/roles.md is generated from the same document.

Scope: social workers, supervisors, prosecutors and readers act on orders of the districts in
their token ("*" for all). An inspector acts on orders assigned to them, and on orders of their
districts that are not yet issued (to assess and issue them). Admins see no case content.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import HTTPException, Request

from api.tokens import ALL_DISTRICTS, User
from orders.domain import ProtectionOrder
from orders.values import Role

ROLES_KEY = "x-roles"


def rule(roles: Iterable[Role]) -> dict[str, Any]:
    """The OpenAPI extension that gives a route its rule: the roles that may call it."""
    return {ROLES_KEY: sorted(role.value for role in roles)}


def forbidden(reason: str) -> HTTPException:
    return HTTPException(status_code=403, detail=reason)


def check_route(request: Request, user: User) -> None:
    """Refuse unless the route has a rule that admits the user's role."""
    route = request.scope.get("route")
    name = getattr(route, "name", "")
    roles = (getattr(route, "openapi_extra", None) or {}).get(ROLES_KEY)
    if roles is None:
        raise forbidden(f"no access rule for {name or 'this route'}: refused to everyone")
    if user.role.value not in roles:
        raise forbidden(f"the {user.role} role may not {name.replace('_', ' ')}")


def check_order(order: ProtectionOrder, user: User) -> ProtectionOrder:
    """Refuse unless the order is within the user's scope; returns the order."""
    if not in_scope(order, user):
        raise forbidden("the order is outside your scope (its district or its assignment)")
    return order


def in_scope(order: ProtectionOrder, user: User) -> bool:
    if not user.covers(order.request.district):
        return False
    if user.role is Role.INSPECTOR:
        return order.terms is None or order.terms.inspector_id == user.id
    return True


def list_scope(user: User) -> dict[str, Any]:
    """The narrowing of a list of orders to the user's scope, as OrderFilter fields."""
    scope: dict[str, Any] = {}
    if ALL_DISTRICTS not in user.districts:
        scope["within_districts"] = tuple(sorted(user.districts))
    if user.role is Role.INSPECTOR:
        scope["assigned_to_or_unassigned"] = user.id
    return scope


def check_district(user: User, district: str) -> None:
    if not user.covers(district):
        raise forbidden("district: outside the districts your token covers")
