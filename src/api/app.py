"""The HTTP application: routers, error mapping, and the parts it serves."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from api import errors
from api.deps import Parts, authorised_user, known_query_only
from api.limits import BodyLimit
from api.routes import (
    alerts,
    audit,
    commands,
    findings,
    notifications,
    orders,
    presence,
    staff,
    system,
)
from api.schemas.errors import responses
from api.tokens import Tokens
from orders.application import Orders
from projections import Queries


def create_app(
    orders_app: Orders, queries: Queries, tokens: Tokens, *, read_wait_seconds: float = 5.0
) -> FastAPI:
    """Build the API around the application, the read models' queries and the token verifier
    (the composition root makes them)."""
    app = FastAPI(
        title="Protection orders",
        version="0.2.0",
        description="Every action on a protection order, as an immutable, attributable fact.",
        generate_unique_id_function=lambda route: route.name,
        responses=responses(503),  # any route, while the database is not answering
    )
    app.state.parts = Parts(orders_app, queries, tokens, read_wait_seconds)
    app.add_middleware(BodyLimit)
    errors.install(app)
    guarded = [Depends(known_query_only), Depends(authorised_user)]  # token, rule, scope
    app.include_router(summarised(commands.router(orders_app.policy)), dependencies=guarded)
    app.include_router(summarised(orders.router), dependencies=guarded)
    app.include_router(summarised(presence.router), dependencies=guarded)
    app.include_router(summarised(audit.router), dependencies=guarded)
    app.include_router(summarised(alerts.router), dependencies=guarded)
    app.include_router(summarised(findings.router), dependencies=guarded)
    app.include_router(summarised(staff.router), dependencies=guarded)
    app.include_router(summarised(notifications.router), dependencies=guarded)
    app.include_router(summarised(system.router), dependencies=[Depends(known_query_only)])
    return app


def summarised(router: APIRouter) -> APIRouter:
    """Each route's OpenAPI summary is the first line of its docstring."""
    for route in router.routes:
        if isinstance(route, APIRoute) and not route.summary and route.description:
            route.summary = route.description.strip().splitlines()[0]
    return router
