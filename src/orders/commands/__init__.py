"""Every action on an order, declared once: the data it carries, who may give it, why it exists.

One small type per caseworker action. Its docstring's first line is its purpose; `may` names
the roles that may give it; `path` is where the API files it under `/orders/{order_id}`
(its `{placeholders}` are fields of the command). The routes, the access rules, docs/roles.md
and the OpenAPI summaries are all derived from these declarations. `decide` hands the
command to the order, which checks the rules of its life and records what it decided.
"""

from __future__ import annotations

from orders.commands.alerts import AcknowledgeAlert, RegisterContact, WithdrawContact
from orders.commands.base import Command, Context, Declared, OpeningCommand
from orders.commands.incidents import (
    AcknowledgeEscalation,
    Escalate,
    ReportBreach,
    ReportDeath,
    RespondToBreach,
    ReviewFinding,
)
from orders.commands.lifecycle import (
    AssessRisk,
    ExtendOrder,
    IssueOrder,
    ModifyOrder,
    RecordService,
    RecordVisit,
    RequestOrder,
    RevokeOrder,
)
from orders.commands.presence import EnrolPresenceProof, NewProof
from orders.commands.risk import ApproveRiskLowering, RejectRiskLowering
from orders.commands.system import (
    AttendToDuties,
    ExpireOrder,
    FlagReport,
    RecordMissedCheckIns,
)


def _declared(base: type[Declared]) -> list[type[Declared]]:
    return [c for sub in base.__subclasses__() for c in (sub, *_declared(sub))]


def _place(command: type[Declared]) -> tuple[bool, bool]:
    """Opening first, then the order's life, then what happens around it."""
    around = command.__module__.endswith((".incidents", ".alerts"))
    return not issubclass(command, OpeningCommand), around


OFFERED: tuple[type[Command] | type[OpeningCommand], ...] = tuple(
    sorted(
        (
            command
            for command in _declared(Declared)
            if hasattr(command, "may") and command.path is not None
            if issubclass(command, (Command, OpeningCommand))
        ),
        key=_place,
    )
)
"""The commands offered over HTTP: every declared command with a `path`, in a case's order."""

__all__ = [
    "OFFERED",
    "AcknowledgeAlert",
    "AcknowledgeEscalation",
    "ApproveRiskLowering",
    "AssessRisk",
    "AttendToDuties",
    "Command",
    "Context",
    "EnrolPresenceProof",
    "Escalate",
    "ExpireOrder",
    "ExtendOrder",
    "FlagReport",
    "IssueOrder",
    "ModifyOrder",
    "NewProof",
    "OpeningCommand",
    "RecordMissedCheckIns",
    "RecordService",
    "RecordVisit",
    "RegisterContact",
    "RejectRiskLowering",
    "ReportBreach",
    "ReportDeath",
    "RequestOrder",
    "RespondToBreach",
    "ReviewFinding",
    "RevokeOrder",
    "WithdrawContact",
]
