"""Lowering a threat takes two people: a reassessment whose final level is lower than the
level in force is only a proposal until a second supervisor approves it.

Until then the higher level and its check-in cadence stay in force. The policy may forbid any
lowering for a period after a breach. These commands are part of the protection order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from orders import errors, events, guards
from orders.alerting import REASSESSMENT, RISK, Duties
from orders.checkins import CheckIns
from orders.policy import Policy
from orders.proposals import Lowering
from orders.scrutiny import Scrutiny
from orders.values import Actor, RiskLevel, Role, Status


class LoweringDecisions:
    """The order's commands that propose, approve or reject a lower risk level."""

    id: UUID
    status: Status
    risk_level: RiskLevel | None
    check_ins: CheckIns | None
    duties: Duties
    scrutiny: Scrutiny
    lowering: Lowering | None
    trigger_event: Callable[..., Any]

    def _deadlines(
        self, check_ins: CheckIns | None = None, duties: Duties | None = None
    ) -> dict[str, datetime | None]:
        raise NotImplementedError

    def resolve_alerts(
        self, kind: Any, subject: str, *, reason: str, by: Actor, at: datetime
    ) -> None:
        raise NotImplementedError

    def _lowers(self, final: RiskLevel) -> bool:
        return self.risk_level is not None and final.rank < self.risk_level.rank

    def propose_lowering(
        self, assessment: dict[str, Any], *, by: Actor, at: datetime, policy: Policy
    ) -> None:
        """Record a reassessment that would lower the level in force, as a proposal."""
        assert self.risk_level is not None
        if not assessment["reason"].strip():
            raise errors.InvalidInput(
                "reason", f"required when lowering the level in force ({self.risk_level})"
            )
        self._lowering_allowed(at, policy)
        reassess_by = None
        if self.status is Status.ISSUED:  # the level in force keeps its reassessment cadence
            reassess_by = at + policy.reassess_every[self.risk_level]
        self.resolve_alerts(REASSESSMENT, RISK, reason="the risk was reassessed", by=by, at=at)
        self.trigger_event(
            events.RiskLoweringProposed,
            timestamp=at,
            actor=by,
            proposal_id=uuid4(),
            in_force=self.risk_level,
            reassess_by=reassess_by,
            **assessment,
            **self._deadlines(duties=self.duties.reassessed(reassess_by)),
        )

    def approve_lowering(
        self, proposal_id: UUID, *, by: Actor, at: datetime, policy: Policy
    ) -> None:
        """A second supervisor approves the proposed lower level: from now it is in force."""
        lowering = self._pending(proposal_id)
        if by.role is not Role.SUPERVISOR or by.id == lowering.proposed_by:
            raise errors.LoweringNeedsAnotherPerson(
                f"a supervisor other than {lowering.proposed_by} must approve lowering the risk"
            )
        self._lowering_allowed(at, policy)
        check_ins, reassess_by = None, None
        if self.status is Status.ISSUED and self.check_ins is not None:
            check_ins = self.check_ins.recadenced(policy.check_in_every[lowering.level], at=at)
            reassess_by = at + policy.reassess_every[lowering.level]
        duties = self.duties if reassess_by is None else self.duties.reassessed(reassess_by)
        self.trigger_event(
            events.RiskLoweringApproved,
            timestamp=at,
            actor=by,
            proposal_id=proposal_id,
            final_level=lowering.level,
            check_ins=check_ins,
            reassess_by=reassess_by,
            policy_version=policy.version,
            **self._deadlines(check_ins, duties),
        )

    def reject_lowering(self, proposal_id: UUID, *, reason: str, by: Actor, at: datetime) -> None:
        """A supervisor or prosecutor rejects the proposed lower level, saying why."""
        self._pending(proposal_id)
        guards.says_why(reason, "a rejection")
        self.trigger_event(
            events.RiskLoweringRejected,
            timestamp=at,
            actor=by,
            proposal_id=proposal_id,
            reason=reason,
        )

    def _pending(self, proposal_id: UUID) -> Lowering:
        if self.lowering is None or self.lowering.proposal_id != proposal_id:
            raise errors.NoLoweringPending(
                "the order has no pending proposal with this id to lower its risk"
            )
        if self.status in (Status.EXPIRED, Status.REVOKED):
            raise errors.OrderNotInForce(f"the order is {self.status}")
        return self.lowering

    def _lowering_allowed(self, at: datetime, policy: Policy) -> None:
        last = max(
            (i.recorded_at for i in self.scrutiny.incidents if i.kind == "breach"), default=None
        )
        if last is not None and at < last + policy.no_lowering_after_breach:
            raise errors.LoweringForbiddenAfterBreach(
                "no lowering of the risk until "
                f"{(last + policy.no_lowering_after_breach).isoformat()} (a breach was recorded)"
            )
