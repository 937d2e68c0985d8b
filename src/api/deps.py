"""Dependencies every route shares: the service, and who is acting."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from orders.application import Orders
from orders.values import Actor, Role
from service.bootstrap import Service

ACTING_ROLES = [r for r in Role if r is not Role.SYSTEM]


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def get_orders(request: Request) -> Orders:
    return get_service(request).orders


def current_actor(
    x_actor_id: Annotated[
        str, Header(min_length=1, max_length=64, description="Who is acting (until tokens arrive).")
    ],
    x_actor_role: Annotated[Role, Header(description="The role they act in.")],
) -> Actor:
    """The acting person, as the caller declares it.

    A stand-in until authentication: the bearer-token issue replaces this one function with
    one that reads a verified token, and every route keeps its signature.
    """
    return Actor(id=x_actor_id, role=x_actor_role)


ServiceDep = Annotated[Service, Depends(get_service)]
OrdersDep = Annotated[Orders, Depends(get_orders)]
ActorDep = Annotated[Actor, Depends(current_actor)]
