"""Dependencies every route shares: the parts it serves, the verified caller, and their rights."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api import access
from api.tokens import AuthenticationFailed, Tokens, User
from orders.application import Orders
from orders.errors import InvalidInput
from orders.records import CommandKey
from projections import Queries

bearer = HTTPBearer(auto_error=False, description="A token from `protection-orders token`.")


@dataclass(frozen=True)
class Parts:
    """What the API serves: the application, the read models' queries, the token verifier."""

    orders: Orders
    queries: Queries
    tokens: Tokens
    read_wait_seconds: float = 5.0


def _parts(request: Request) -> Parts:
    parts: Parts = request.app.state.parts
    return parts


async def get_parts(request: Request) -> Parts:
    """The service's parts. (Dependencies that do no I/O are `async`: FastAPI runs a plain
    one on a worker thread, a hop that cost more than most of them.)"""
    return _parts(request)


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The caller, from a verified bearer token; 401 when there is none or it is not valid."""
    if credentials is None:
        raise _unauthorised("a bearer token is required (Authorization: Bearer <token>)")
    try:
        return _parts(request).tokens.verify(credentials.credentials)
    except AuthenticationFailed as e:
        raise _unauthorised(str(e)) from None


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(status_code=401, detail=reason, headers={"WWW-Authenticate": "Bearer"})


async def known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not declare (422), rather than ignore them."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    if set(request.query_params) - known:  # named by what it takes: the name sent is not repeated
        takes = ", ".join(sorted(known)) or "none"
        reason = f"names a parameter this route does not take (it takes {takes})"
        raise RequestValidationError([{"loc": ("query",), "msg": reason, "type": "unknown"}])


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def authorised_user(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
    """The caller, once the route's rule admits their role and the order is in their scope.
    Only the order's load (I/O) goes to a worker thread: a route with no order takes none."""
    access.check_route(request, user)
    raw = request.path_params.get("order_id")
    if raw is not None:
        try:
            order_id = UUID(raw)
        except ValueError:
            return user  # the route's own validation answers 422
        order = await run_in_threadpool(_parts(request).orders.get, order_id)
        access.check_order(order, user)
        request.state.checked_order = order  # a read of it need not load it again
    return user


PartsDep = Annotated[Parts, Depends(get_parts)]
UserDep = Annotated[User, Depends(authorised_user)]


@dataclass(frozen=True)
class Options:
    """How a command may be qualified: a caller's key for retries, the version it saw."""

    key: CommandKey | None = None
    expected_version: int | None = None


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
    key = None
    if idempotency_key is not None:
        body = await request.body()
        digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body)
        key = CommandKey(user.id, idempotency_key, digest.hexdigest())
    expected = None if if_match is None else int(if_match.removeprefix("W/").strip('"'))
    return Options(key, expected)


OptionsDep = Annotated[Options, Depends(command_options)]

MinPosition = Annotated[
    int | None,
    Header(
        ge=0,
        le=2**62,
        description="Read your writes: wait (briefly) until this read reflects the log up to "
        "this position, as a command's X-Log-Position header gave it.",
    ),
]


class ReadModelBehind(Exception):
    """The read model asked for did not reach the position asked for in time (HTTP 503)."""


def seen(parts: Parts, view: str, min_position: int | None) -> None:
    """Wait until `view` reflects the log up to `min_position`, within the API's bound."""
    if min_position is None:
        return
    if min_position > parts.queries.views.head():
        raise InvalidInput("X-Min-Position", "lies beyond the end of the log")
    if not parts.queries.views.wait(min_position, projection=view, timeout=parts.read_wait_seconds):
        raise ReadModelBehind(
            f"the {view} read model has not yet reached the position asked for; retry shortly"
        )
