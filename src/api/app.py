"""The HTTP application: routers, error mapping, and the service it serves."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from api import errors
from api.deps import authorised_user
from api.limits import BodyLimit
from api.routes import actions, audit, orders, system
from service.bootstrap import Service


def create_app(service: Service) -> FastAPI:
    """Build the API around an already-built service (the composition root makes it)."""
    app = FastAPI(
        title="Protection orders",
        version="0.1.0",
        description="Every action on a protection order, as an immutable, attributable fact.",
    )
    app.state.service = service
    app.add_middleware(BodyLimit)
    errors.install(app)
    authorised = [Depends(authorised_user)]  # every case route: token, role rule, scope
    app.include_router(orders.router, dependencies=authorised)
    app.include_router(actions.router, dependencies=authorised)
    app.include_router(audit.router, dependencies=authorised)
    app.include_router(system.router)
    return app
