"""The one shape of every refusal: a name from a closed set, a sentence, the fields at fault."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, JsonValue

from orders import errors


def _names(cls: type) -> list[str]:
    subclasses: list[type] = cls.__subclasses__()
    return [cls.__name__, *(name for sub in subclasses for name in _names(sub))]


ERROR_NAMES = sorted(
    {
        *(n for n in _names(errors.DomainError) if n not in ("DomainError", "RuleBroken")),
        "InvalidRequest",
        "NotAuthenticated",
        "Forbidden",
        "NotFound",
        "PayloadTooLarge",
        "ConflictingFraming",
        "ReadModelBehind",
        "DatabaseUnavailable",
        "HTTPError",
    }
)


class FieldError(BaseModel):
    """One field at fault: where it was sent, which field, and why (never its value)."""

    location: str = Field(description="body, query, path or header")
    field: str = Field(description="The field's dotted path within its location.")
    reason: str


class ErrorOut(BaseModel):
    """A refusal: the named rule or error, what was wrong, and the fields at fault (never the
    values sent)."""

    error: str = Field(json_schema_extra={"enum": list[JsonValue](ERROR_NAMES)})
    detail: str
    fields: list[FieldError] = []


DESCRIPTIONS = {
    401: "No bearer token, or one not valid",
    403: "The role or the order's scope does not allow it",
    404: "No such order (or breach, escalation, finding), or member of staff",
    409: "A rule of the order's life refuses it, or a concurrent write",
    412: "If-Match names an older version of the order",
    413: "The request body is too large",
    422: "Invalid input: names the field and the reason",
    503: "The database is not answering just now, or the read model asked for has not yet "
    "reached the position asked for: retry after Retry-After seconds",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of the errors a route can return."""
    return {s: {"model": ErrorOut, "description": DESCRIPTIONS[s]} for s in statuses}
