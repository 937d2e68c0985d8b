"""Dependencies every route shares: the service, the verified caller, and their rights."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import access
from api.tokens import AuthenticationFailed, User
from orders.application import Orders
from service.bootstrap import Service

bearer = HTTPBearer(auto_error=False, description="A token from `protection-orders token`.")


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def get_orders(request: Request) -> Orders:
    return get_service(request).orders


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The caller, from a verified bearer token; 401 when there is none or it is not valid."""
    if credentials is None:
        raise _unauthorised("a bearer token is required (Authorization: Bearer <token>)")
    try:
        return get_service(request).tokens.verify(credentials.credentials)
    except AuthenticationFailed as e:
        raise _unauthorised(str(e)) from None


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(status_code=401, detail=reason, headers={"WWW-Authenticate": "Bearer"})


def authorised_user(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
    """The caller, once the route's rule admits their role and the order is in their scope."""
    access.check_route(request, user)
    raw = request.path_params.get("order_id")
    if raw is not None:
        try:
            order_id = UUID(raw)
        except ValueError:
            return user  # the route's own validation answers 422
        access.check_order(get_service(request), order_id, user)
    return user


ServiceDep = Annotated[Service, Depends(get_service)]
OrdersDep = Annotated[Orders, Depends(get_orders)]
UserDep = Annotated[User, Depends(authorised_user)]
