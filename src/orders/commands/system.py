"""The service's own commands: given by the scheduler and the detectors, never over HTTP."""

from __future__ import annotations

from orders.commands.base import Command, Context
from orders.domain import ProtectionOrder
from orders.values import Role, Strength


class RecordMissedCheckIns(Command):
    """Alert every check-in window whose deadline has passed with no report, and climb the
    alerts already late by now; returns how many windows were missed."""

    may = frozenset({Role.SYSTEM})

    def decide(self, order: ProtectionOrder, c: Context) -> int:
        raised = 0
        while order.check_ins is not None and order.check_ins.overdue_at(c.at):
            order.record_missed_check_in(by=c.by, at=c.at, policy=c.policy)
            raised += 1
        order.attend_to_duties(by=c.by, at=c.at, policy=c.policy)
        return raised


class AttendToDuties(Command):
    """Raise an alert for every duty lapsed undone and climb every alert left unacknowledged;
    returns how many events that took."""

    may = frozenset({Role.SYSTEM})

    def decide(self, order: ProtectionOrder, c: Context) -> int:
        return order.attend_to_duties(by=c.by, at=c.at, policy=c.policy)


class ExpireOrder(Command):
    """Mark the order expired once its validity has run out."""

    may = frozenset({Role.SYSTEM})

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.expire(by=c.by, at=c.at)


class FlagReport(Command):
    """Record a detector's finding about one report, once per rule; returns whether it was new."""

    may = frozenset({Role.SYSTEM})

    rule: str
    strength: Strength
    evidence: str
    flagged_version: int

    def decide(self, order: ProtectionOrder, c: Context) -> bool:
        return order.flag_report(
            rule=self.rule,
            strength=self.strength,
            evidence=self.evidence,
            flagged_version=self.flagged_version,
            by=c.by,
            at=c.at,
        )
