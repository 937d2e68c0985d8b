"""Domain refusals and bad input become HTTP answers in this one place, in one shape.

Error bodies never echo what was sent: a refused narrative or address must not come back in
an error, nor reach a log through one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import ReadModelBehind
from api.schemas.errors import ErrorOut, FieldError
from orders import errors


def problem(status: int, kind: str, detail: str, fields: Sequence[FieldError] = ()) -> JSONResponse:
    body = ErrorOut(error=kind, detail=detail, fields=list(fields))
    return JSONResponse(status_code=status, content=body.model_dump())


def _field(loc: Sequence[Any]) -> FieldError:
    where, *path = [str(part) for part in loc] or ["body"]
    return FieldError(location=where, field=".".join(path), reason="")


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_field(e["loc"]).model_copy(update={"reason": e["msg"]}) for e in exc.errors()]
        names = ", ".join(f.field or f.location for f in fields)
        return problem(422, "InvalidRequest", f"invalid input: {names}", fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {401: "NotAuthenticated", 403: "Forbidden", 404: "NotFound"}.get(
            exc.status_code, "HTTPError"
        )
        response = problem(exc.status_code, kind, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(errors.OrderNotFound)
    async def not_found(request: Request, exc: errors.OrderNotFound) -> JSONResponse:
        return problem(404, type(exc).__name__, str(exc))

    @app.exception_handler(errors.StaffMemberNotFound)
    async def no_such_member(request: Request, exc: errors.StaffMemberNotFound) -> JSONResponse:
        return problem(404, type(exc).__name__, str(exc))

    @app.exception_handler(errors.InvalidInput)
    async def invalid_input(request: Request, exc: errors.InvalidInput) -> JSONResponse:
        where = "header" if exc.field[:1].isupper() else "body"
        fields = [FieldError(location=where, field=exc.field, reason=exc.reason)]
        return problem(422, type(exc).__name__, str(exc), fields)

    @app.exception_handler(errors.VersionMismatch)
    async def stale(request: Request, exc: errors.VersionMismatch) -> JSONResponse:
        return problem(412, type(exc).__name__, str(exc))

    @app.exception_handler(errors.RuleBroken)
    async def rule_broken(request: Request, exc: errors.RuleBroken) -> JSONResponse:
        return problem(409, type(exc).__name__, str(exc))

    @app.exception_handler(ReadModelBehind)
    async def behind(request: Request, exc: ReadModelBehind) -> JSONResponse:
        response = problem(503, "ReadModelBehind", str(exc))
        response.headers["Retry-After"] = "1"
        return response
