"""Every action on an order, declared once: the data it carries, who may give it, why it exists.

One small type per caseworker action. Its docstring's first line is its purpose; `may` names
the roles that may give it; `path` is where the API files it under `/orders/{order_id}`
(its `{placeholders}` are fields of the command). The routes, the access rules, docs/roles.md
and the OpenAPI summaries are all derived from these declarations. `decide` hands the
command to the order, which checks the rules of its life and records what it decided.
"""

from __future__ import annotations

from orders.commands.base import Command, Context, OpeningCommand
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
from orders.commands.system import ExpireOrder, FlagReport, RecordMissedCheckIns

OFFERED: tuple[type[Command] | type[OpeningCommand], ...] = (
    RequestOrder,
    AssessRisk,
    IssueOrder,
    RecordService,
    RecordVisit,
    ReportBreach,
    RespondToBreach,
    Escalate,
    AcknowledgeEscalation,
    ExtendOrder,
    ModifyOrder,
    RevokeOrder,
    ReportDeath,
    ReviewFinding,
)
"""The commands offered over HTTP, in the order a case usually meets them."""

__all__ = [
    "OFFERED",
    "AcknowledgeEscalation",
    "AssessRisk",
    "Command",
    "Context",
    "Escalate",
    "ExpireOrder",
    "ExtendOrder",
    "FlagReport",
    "IssueOrder",
    "ModifyOrder",
    "OpeningCommand",
    "RecordMissedCheckIns",
    "RecordService",
    "RecordVisit",
    "ReportBreach",
    "ReportDeath",
    "RequestOrder",
    "RespondToBreach",
    "ReviewFinding",
    "RevokeOrder",
]
