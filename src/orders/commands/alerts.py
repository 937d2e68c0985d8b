"""Commands about alerts and about who is told: acknowledging, and a person's consent."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from orders.alerting import ContactChannel
from orders.commands.base import INSP, PROS, SUP, SW, Command, Context
from orders.domain import ProtectionOrder
from orders.inputs import NO_NUL, PersonId, Reason

Address = Annotated[str, Field(min_length=3, max_length=254, pattern=NO_NUL)]


class AcknowledgeAlert(Command):
    """Acknowledge an alert at your rung or above, saying what you will do; it stops climbing."""

    may = frozenset({INSP, SUP, PROS})
    path = "/alerts/{alert_id}/acknowledgement"

    alert_id: UUID
    note: Reason

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.acknowledge_alert(self.alert_id, note=self.note, by=c.by, at=c.at)


class RegisterContact(Command):
    """Record a protected person's consent to be told about her order, and where."""

    may = frozenset({SW, INSP, SUP})
    path = "/contacts"
    returns = "contact_id"

    person_id: PersonId
    channel: ContactChannel
    address: Address  # an e-mail address or a phone number; a sensitive field

    def decide(self, order: ProtectionOrder, c: Context) -> UUID:
        return order.register_contact(
            self.person_id, channel=self.channel, address=self.address, by=c.by, at=c.at
        )


class WithdrawContact(Command):
    """Record that a protected person withdrew her consent; nothing more is sent there."""

    may = frozenset({SW, INSP, SUP})
    path = "/contacts/{contact_id}/withdrawal"

    contact_id: UUID

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        order.withdraw_contact(self.contact_id, by=c.by, at=c.at)
