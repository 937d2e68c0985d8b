"""How a command ends: 0 done, 1 a check does not hold, 2 refused; and why it was refused,
in one line that says what to do, never a secret or a value that a setting or a case holds."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from pydantic import ValidationError
from typer._click.exceptions import (  # Typer 0.29 vendors Click
    ClickException,
    NoArgsIsHelpError,
    UsageError,
)
from typer.core import TyperGroup

from orders.errors import DomainError, OrderNotFound
from orders.policy import PolicyFileError
from service.checkpoints import CheckpointRefused
from service.settings import PREFIX, SettingsError
from service.terminal import screen

LOCKED = (
    "the database is locked by another command (a demo, a rebuild, a serve on SQLite); "
    "wait for it to finish, or stop it, and try again"
)
UNREACHABLE = (
    "the database could not be used ({reason}); check that "
    f"{PREFIX}DATABASE_URL names a database this process can open, and that its server runs"
)


class Commands(TyperGroup):
    """The commands, ending by one convention: 0 done, 1 does not hold, 2 refused."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        with screen.session():
            code = self._run(
                args, prog_name, complete_var, windows_expand_args=windows_expand_args, **extra
            )
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        **extra: Any,
    ) -> int:
        try:
            done = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError:
            return 2  # the help is printed already
        except Exception as error:
            reason = refusal(error)
            if reason is None:
                raise  # a fault, not a refusal: its traceback is wanted
            screen.refuse(reason)
            return 2
        return done if isinstance(done, int) else 0


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
        return (
            f"no protection order with id {error.order_id}; check the id "
            "(GET /orders lists the orders you may see)"
        )
    if isinstance(error, DomainError | CheckpointRefused):
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
