"""Named refusals. A command that raises one of these has stored nothing.

Messages name the rule and what to do, never a value the caller sent (an id, a name) nor a
sensitive one (an address, a narrative): they reach HTTP answers as they are.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID


class DomainError(Exception):
    """Base of every refusal the order's rules make."""


class OrderNotFound(DomainError):
    """No order has this id."""

    def __init__(self, order_id: UUID, *, at: datetime | None = None) -> None:
        when = "" if at is None else " recorded by the time asked for"
        super().__init__(f"no protection order with this id{when}")
        self.order_id = order_id


class RuleBroken(DomainError):
    """A command that the order's life does not allow now (HTTP 409)."""


class InvalidInput(DomainError):
    """A value the rules refuse whatever the order's state (HTTP 422); names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ConcurrentChange(RuleBroken):
    """Someone else changed the order between our read and our write; retry with fresh state."""


class VersionMismatch(RuleBroken):
    """The caller decided on an older version of the order than the one stored (HTTP 412)."""


class OrderAlreadyIssued(RuleBroken):
    """An order is issued once; change it with extension or modification."""


class RiskNotAssessed(RuleBroken):
    """An order needs a risk assessment before it can be issued."""


class OrderNotInForce(RuleBroken):
    """The command needs an issued order that has not expired or been revoked."""


class ReportingPeriodOver(RuleBroken):
    """The order ended, and the policy's period for reporting visits made while it was in force
    is over; says until when reports were accepted."""

    def __init__(self, order_id: UUID, *, until: datetime) -> None:
        super().__init__(
            f"order {order_id} has ended; reports of visits were accepted until {until.isoformat()}"
        )
        self.until = until


class OrderAlreadyServed(RuleBroken):
    """The respondent was already served with this order."""


class ExtensionBeyondMaximum(RuleBroken):
    """The validity asked for runs past the policy's maximum for the kind."""


class CheckInNotOverdue(RuleBroken):
    """No check-in window of the order has passed its deadline unmet."""


class OrderNotDueToExpire(RuleBroken):
    """The order is not in force or its validity has not run out."""


class BreachNotFound(RuleBroken):
    """The order has no breach with that id."""


class EscalationNotFound(RuleBroken):
    """The order has no escalation with that id."""


class EscalationAlreadyAcknowledged(RuleBroken):
    """The escalation was acknowledged already."""


class RiskLevelLowered(InvalidInput):
    """The final risk level may raise the computed one, never lower it."""


class ClaimedTimeInFuture(InvalidInput):
    """A claimed time lies in the future beyond the policy's tolerance."""


class ClaimedTimeOutOfRange(InvalidInput):
    """A claimed time falls outside what the order allows (its validity, a breach)."""


class UnknownProtectedPerson(InvalidInput):
    """An order may protect only persons named on its request."""


class NoSuchEvent(InvalidInput):
    """A finding must be about an event the order has."""


class DeathAlreadyReported(RuleBroken):
    """The death of this protected person is already recorded."""


class FindingNotFound(RuleBroken):
    """The order has no finding with that id."""


class FindingAlreadyReviewed(RuleBroken):
    """The finding was reviewed already."""


class AlertNotFound(RuleBroken):
    """The order has no open alert with that id (it may have been acknowledged already)."""


class AlertAboveYourRung(RuleBroken):
    """The alert has climbed past the caller's rung: someone higher must acknowledge it."""


class AlertAboutYourOwnLapse(RuleBroken):
    """The assigned inspector cannot acknowledge an alert about his own missed duty."""


class ContactNotFound(RuleBroken):
    """The order has no registered contact with that id (it may have been withdrawn)."""


class LoweringNeedsAnotherPerson(RuleBroken):
    """A lower risk level takes effect only once a supervisor other than its proposer approves."""


class LoweringForbiddenAfterBreach(RuleBroken):
    """The policy forbids lowering the risk level for a period after a breach."""


class NoLoweringPending(RuleBroken):
    """The order has no pending proposal with that id to lower its risk level."""


class StaffMemberNotFound(DomainError):
    """The staff directory has no member with this id (HTTP 404)."""

    def __init__(self, staff_id: str) -> None:
        super().__init__("no member of staff has this id")
        self.staff_id = staff_id


class StaffMemberAlreadyEnrolled(RuleBroken):
    """A member of staff is enrolled once; change their entry instead."""
