"""What every command is: data, the roles that may give it, where the API files it.

A command's docstring's first line is its purpose; `may` names the roles that may give it;
`path` is where the API files it under `/orders/{order_id}` (its `{placeholders}` are fields
of the command). `decide` hands the command to the order, which checks the rules of its life.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from orders import values as v
from orders.domain import ProtectionOrder
from orders.inputs import Input
from orders.policy import Policy
from orders.presence import Vault
from orders.values import Role

SW, INSP, SUP, PROS = Role.SOCIAL_WORKER, Role.INSPECTOR, Role.SUPERVISOR, Role.PROSECUTOR


@dataclass(frozen=True)
class Context:
    """Who gives a command, when the service records it, the policy in force, and the vault
    of proof-of-presence secrets."""

    by: v.Actor
    at: datetime
    policy: Policy
    vault: Vault


class Declared(Input):
    """What every command declares besides its data."""

    may: ClassVar[frozenset[Role]]
    path: ClassVar[str | None] = None  # None: not offered over HTTP (the service's own)
    returns: ClassVar[str | None] = None  # the name of the new thing's id it answers with
    writes_beside: ClassVar[bool] = False  # deciding it keeps something beside the order

    @classmethod
    def purpose(cls) -> str:
        return (cls.__doc__ or cls.__name__).strip().splitlines()[0]

    @classmethod
    def path_fields(cls) -> tuple[str, ...]:
        return tuple(f for f in cls.model_fields if cls.path and "{" + f + "}" in cls.path)


class Command(Declared):
    """An action on an existing order."""

    def decide(self, order: ProtectionOrder, c: Context) -> Any:
        """Hand the command to the order; returns a new id, a count, or None."""
        raise NotImplementedError


class OpeningCommand(Declared):
    """An action that opens a new order."""

    path: ClassVar[str | None] = ""

    def open(self, c: Context) -> ProtectionOrder:
        raise NotImplementedError


def distinct(items: list[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(items))
