"""Domain refusals and bad input become HTTP answers in this one place.

Error bodies never echo what was sent: a refused narrative or address must not come back in
an error, nor reach a log through one.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orders import errors


def _problem(status: int, kind: str, detail: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": kind, "detail": detail})


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return _problem(422, "InvalidRequest", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {401: "NotAuthenticated", 403: "Forbidden"}.get(exc.status_code, "HTTPError")
        response = _problem(exc.status_code, kind, exc.detail)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(errors.OrderNotFound)
    async def not_found(request: Request, exc: errors.OrderNotFound) -> JSONResponse:
        return _problem(404, type(exc).__name__, str(exc))

    @app.exception_handler(errors.InvalidInput)
    async def invalid_input(request: Request, exc: errors.InvalidInput) -> JSONResponse:
        detail = [{"loc": ["body", exc.field], "msg": exc.reason, "type": type(exc).__name__}]
        return _problem(422, type(exc).__name__, detail)

    @app.exception_handler(errors.VersionMismatch)
    async def stale(request: Request, exc: errors.VersionMismatch) -> JSONResponse:
        return _problem(412, type(exc).__name__, str(exc))

    @app.exception_handler(errors.RuleBroken)
    async def rule_broken(request: Request, exc: errors.RuleBroken) -> JSONResponse:
        return _problem(409, type(exc).__name__, str(exc))
