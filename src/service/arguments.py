"""How the command line reads its arguments: each into its type, or refused with a
sentence saying what was expected (Typer prefixes the option's name)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import typer

from orders.values import Role

PERSON_ROLES = tuple(role.value for role in Role if role is not Role.SYSTEM)
"""The roles a token may carry: people's, never the service's own."""


def order_id(text: str) -> UUID:
    """An order's id, as the API gives it."""
    try:
        return UUID(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an order id; an order id is a UUID such as "
            "8c4c52e7-1d3a-4f7e-9a51-6b0d2f0c9e11, as the API returns it"
        ) from None


def day(text: str) -> datetime:
    """A day as YYYY-MM-DD, its first moment in UTC."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a day; write it as YYYY-MM-DD") from None


def person_role(text: str) -> Role:
    """A role a person holds."""
    if text not in PERSON_ROLES:
        raise typer.BadParameter(f"{text!r} is not a role; choose one of {', '.join(PERSON_ROLES)}")
    return Role(text)


def at_least_one(count: int) -> int:
    """A count of one or more."""
    if count < 1:
        raise typer.BadParameter(f"must be at least 1, not {count}")
    return count


def positive_hours(hours: float) -> float:
    """A number of hours above zero."""
    if hours <= 0:
        raise typer.BadParameter(f"must be more than 0 hours, not {hours:g}")
    return hours


def in_a_folder(out: Path) -> Path:
    """A file to write, in a folder that exists ("-" is standard output)."""
    if str(out) == "-":
        return out
    if not out.parent.is_dir():
        raise typer.BadParameter(
            f"the folder {out.parent} does not exist; create it or write somewhere else"
        )
    if out.is_dir():
        raise typer.BadParameter(f"{out} is a folder; name a file in it, e.g. {out / 'case.json'}")
    return out


def key_files(flag: str, help: str) -> Any:
    """A repeatable option naming files that hold public keys (raw, base64 or hex)."""
    return typer.Option(flag, exists=True, dir_okay=False, readable=True, help=help)
