"""Why a command was refused, in one line that says what to do; never a secret or a value
that a setting or a case holds."""

from __future__ import annotations

import sqlite3

from eventsourcing.persistence import InterfaceError, OperationalError
from pydantic import ValidationError
from typer._click.exceptions import ClickException, UsageError  # Typer 0.29 vendors Click

from orders.errors import DomainError, OrderNotFound
from orders.policy import PolicyFileError
from service.settings import PREFIX, SettingsError

LOCKED = (
    "the database is locked by another command (a demo, a rebuild, a serve on SQLite); "
    "wait for it to finish, or stop it, and try again"
)
UNREACHABLE = (
    "the database could not be used ({reason}); check that "
    f"{PREFIX}DATABASE_URL names a database this process can open, and that its server runs"
)


def refusal(error: BaseException) -> str | None:
    """The line to print for a refused command, or None for a fault (shown in full)."""
    if isinstance(error, ClickException):
        ctx = error.ctx if isinstance(error, UsageError) else None
        path = ctx.command_path if ctx else "protection-orders"
        return f"{error.format_message()} (see `{path} --help`)"
    if isinstance(error, SettingsError):
        return str(error)
    if isinstance(error, PolicyFileError):
        return _policy(error)
    if isinstance(error, OrderNotFound):
        return f"{error}; check the id (GET /orders lists the orders you may see)"
    if isinstance(error, DomainError):
        return str(error)
    return _database(error)


def _policy(error: PolicyFileError) -> str:
    headline = str(error).splitlines()[0].rstrip(":")
    cause = error.__cause__
    if isinstance(cause, ValidationError):
        first = cause.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        headline = f"{headline}: {where}: {first['msg']}"
    return f"{headline}; fix the file, or unset {PREFIX}POLICY to use the packaged policy"


def _database(error: BaseException) -> str | None:
    """A locked or unreachable database, whichever library raised it; else None."""
    chain = _chain(error)
    if any(isinstance(e, sqlite3.OperationalError) and "locked" in str(e) for e in chain):
        return LOCKED
    if any("lock timeout" in str(e) for e in chain):  # PostgreSQL's lock_timeout
        return LOCKED
    if isinstance(error, OperationalError | InterfaceError):
        return UNREACHABLE.format(reason=(str(error).splitlines() or ["no reason given"])[0])
    return None


def _chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
