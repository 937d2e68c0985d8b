"""Named refusals. A command that raises one of these has stored nothing.

Messages name the order and the rule, never a sensitive value (an address, a narrative).
"""

from __future__ import annotations

from uuid import UUID


class DomainError(Exception):
    """Base of every refusal the order's rules make."""


class OrderNotFound(DomainError):
    """No order has this id."""

    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"no protection order with id {order_id}")


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


class OrderAlreadyIssued(RuleBroken):
    pass


class RiskNotAssessed(RuleBroken):
    pass


class OrderNotInForce(RuleBroken):
    pass


class OrderAlreadyServed(RuleBroken):
    pass


class ExtensionBeyondMaximum(RuleBroken):
    pass


class CheckInNotOverdue(RuleBroken):
    pass


class OrderNotDueToExpire(RuleBroken):
    pass


class BreachNotFound(RuleBroken):
    pass


class EscalationNotFound(RuleBroken):
    pass


class EscalationAlreadyAcknowledged(RuleBroken):
    pass


class RiskLevelLowered(InvalidInput):
    pass


class ClaimedTimeInFuture(InvalidInput):
    pass


class ClaimedTimeOutOfRange(InvalidInput):
    pass


class UnknownProtectedPerson(InvalidInput):
    pass
