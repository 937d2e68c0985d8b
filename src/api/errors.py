"""Domain refusals and bad input become HTTP answers in this one place, in one shape.

Error bodies never echo what was sent: they name the field and the reason, never the value,
so a refused narrative or address, an id or a name of the caller's choosing cannot come back
in an error, nor reach a log through one. Pydantic's own messages are passed on only where
they are made of the schema's words (a bound, a pattern, the values allowed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import ReadModelBehind
from api.schemas.errors import ErrorOut, FieldError
from orders import errors

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5  # a database restart, a failover: a few seconds
UNAVAILABLE = (
    "the database is not answering just now (restarting, unreachable or busy): retry in "
    f"{RETRY_AFTER_SECONDS} seconds (a command sent again with its Idempotency-Key is stored "
    "once, even if this attempt reached the database)"
)


def problem(status: int, kind: str, detail: str, fields: Sequence[FieldError] = ()) -> JSONResponse:
    body = ErrorOut(error=kind, detail=detail, fields=list(fields))
    return JSONResponse(status_code=status, content=body.model_dump())


SCHEMA_WORDS = {
    *("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "actual_length"),
    *("expected", "expected_plural", "field_type", "pattern", "class_name", "expected_schemes"),
}
"""What pydantic puts into a message from the schema, never from the input."""

OWN_MESSAGES = {"value_error", "assertion_error"}  # our validators' fixed sentences

REASONS = {
    "extra_forbidden": "has a field it does not take: remove it (see the OpenAPI document)",
    "json_invalid": "is not valid JSON",
    "uuid_parsing": "must be a UUID, such as 123e4567-e89b-12d3-a456-426614174000",
    "datetime_parsing": "must be a time in ISO 8601 with its offset, e.g. 2026-03-02T09:00:00Z",
    "datetime_from_date_parsing": "must be a time in ISO 8601 with its offset",
    "date_parsing": "must be a date, YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date, YYYY-MM-DD",
}


def _field(error: Any) -> FieldError:
    """Where the error is and why; an unknown field is named by the object that has it."""
    where, *path = [str(part) for part in error["loc"]] or ["body"]
    if error["type"] == "extra_forbidden":
        path = path[:-1]  # the name the caller made up
    return FieldError(location=where, field=".".join(path), reason=_reason(error))


def _reason(error: Any) -> str:
    if error["type"] in REASONS:
        return REASONS[error["type"]]
    if error["type"] in OWN_MESSAGES or set(error.get("ctx") or {}) <= SCHEMA_WORDS:
        return str(error["msg"])
    return "is not valid here (see the OpenAPI document)"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_field(e) for e in exc.errors()]
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

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        """Either engine, through the library: a connection refused, cut or not had in time,
        a lock not had in time (SQLite's "database is locked" too)."""
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        log.warning("database unavailable (%s: %s): answered 503", type(exc).__name__, first_line)
        response = problem(503, "DatabaseUnavailable", UNAVAILABLE)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(ReadModelBehind)
    async def behind(request: Request, exc: ReadModelBehind) -> JSONResponse:
        response = problem(503, "ReadModelBehind", str(exc))
        response.headers["Retry-After"] = "1"
        return response
