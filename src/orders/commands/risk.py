"""Commands that decide on a proposal to lower an order's risk level (two people)."""

from __future__ import annotations

from uuid import UUID

from orders.commands.base import PROS, SUP, Command, Context
from orders.domain import ProtectionOrder
from orders.inputs import Reason


class ApproveRiskLowering(Command):
    """Approve a proposed lower risk level: a supervisor other than the one who proposed it."""

    may = frozenset({SUP})
    path = "/risk-lowerings/{proposal_id}/approval"

    proposal_id: UUID

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.approve_lowering(self.proposal_id, by=c.by, at=c.at, policy=c.policy)


class RejectRiskLowering(Command):
    """Reject a proposed lower risk level, saying why; the level in force stays."""

    may = frozenset({SUP, PROS})
    path = "/risk-lowerings/{proposal_id}/rejection"

    proposal_id: UUID
    reason: Reason

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.reject_lowering(self.proposal_id, reason=self.reason, by=c.by, at=c.at)
