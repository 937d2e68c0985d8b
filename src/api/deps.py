"""Dependencies every route shares: the service, the verified caller, and their rights."""

from __future__ import annotations

import hashlib
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import access
from api.tokens import AuthenticationFailed, User
from orders.application import Options, Orders
from orders.records import CommandKey
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


async def command_options(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Retry-safe: a repeated key returns the first result, stores nothing.",
        ),
    ] = None,
    if_match: Annotated[
        str | None,
        Header(
            max_length=40,
            pattern=r'^(W/)?"?\d+"?$',
            description="The order's version (its ETag) the command was decided on.",
        ),
    ] = None,
) -> Options:
    """The Idempotency-Key and If-Match a command was sent with."""
    options: Options = {}
    if idempotency_key is not None:
        body = await request.body()
        digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body)
        options["key"] = CommandKey(user.id, idempotency_key, digest.hexdigest())
    if if_match is not None:
        options["expected_version"] = int(if_match.removeprefix("W/").strip('"'))
    return options


OptionsDep = Annotated[Options, Depends(command_options)]
