"""The delivery worker: claims the outbox's due messages, sends them, records each attempt.

At least once: a message is marked delivered only after its channel accepted it, so a crash
between the two sends it again (under the same idempotency key, which the receiver uses to
drop the repeat). A failed attempt records the error's class and the next try, backing off
exponentially up to a cap; a refusal no retry can mend (a 4xx, a refused recipient) settles
the message as undeliverable. Any number of workers may run at once: each claims its own
messages for a lease (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one conditional UPDATE).

Addresses are looked up here, at the moment of sending: a protected person's from her order
(decrypted by the application), a member of staff's from the directory. A person who withdrew
her consent is no longer among the order's contacts: her message is settled as withdrawn,
never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from notifications import render
from notifications.channels import EmailChannel, Envelope, Failed, Send, WebhookChannel
from orders.alerting import Contact
from orders.application import Orders
from orders.errors import OrderNotFound
from projections.database import Row
from projections.outbox import DeliveryChannel, DeliveryStatus, Outbox
from projections.staff import Staff

log = logging.getLogger(__name__)

BATCH = 100
MAX_BATCHES = 20  # one run delivers at most this many batches; the next run goes on
LEASE = timedelta(minutes=5)
NOT_CONFIGURED = "ChannelNotConfigured"


@dataclass(frozen=True)
class Backoff:
    """How long to wait before the next try: `first`, doubled each attempt, at most `cap`."""

    first: timedelta
    cap: timedelta

    def after(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1 for the first)."""
        doublings: int = min(max(attempts - 1, 0), 32)
        wait: timedelta = self.first * (2**doublings)
        return min(self.cap, wait)


@dataclass
class Report:
    """What one run did."""

    delivered: int = 0
    retrying: int = 0
    undeliverable: int = 0
    withdrawn: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def settled(self) -> int:
        return self.delivered + self.retrying + self.undeliverable + self.withdrawn

    def __str__(self) -> str:
        if not self.settled:
            return ""
        said = f"delivered {self.delivered} message(s)"
        if self.retrying:
            causes = ", ".join(f"{n} {error}" for error, n in sorted(self.errors.items()))
            said += f"; {self.retrying} to retry ({causes})"
        if self.undeliverable:
            said += f"; {self.undeliverable} undeliverable"
        if self.withdrawn:
            said += f"; {self.withdrawn} dropped (consent withdrawn)"
        return said


class Unreachable(Exception):
    """No address to send to: the message is settled as `status`, with `error` as the cause."""

    def __init__(self, status: DeliveryStatus, error: str) -> None:
        super().__init__(error)
        self.status, self.error = status, error


class Delivery:
    """Delivers the outbox's due messages through their channels."""

    def __init__(
        self,
        orders: Orders,
        outbox: Outbox,
        staff: Staff,
        *,
        email: EmailChannel,
        webhook: WebhookChannel | None,
        backoff: Backoff,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.orders, self.outbox, self.staff = orders, outbox, staff
        self.channels = {DeliveryChannel.EMAIL: email, DeliveryChannel.WEBHOOK: webhook}
        self.backoff = backoff
        self.clock = clock or orders.now

    def run(self) -> Report:
        """Deliver every message due now, a batch at a time; returns what was done."""
        report = Report()
        for _ in range(MAX_BATCHES):
            rows = self.outbox.claim(self.clock(), lease=LEASE, limit=BATCH)
            if not rows:
                break
            self._deliver(rows, report)
            if len(rows) < BATCH:
                break
        if report.retrying:
            log.warning("delivery: %s", report)
        return report

    def _deliver(self, rows: list[Row], report: Report) -> None:
        orders_seen: dict[str, Mapping[UUID, Contact]] = {}
        down: dict[DeliveryChannel, str] = {}  # channels that failed as a whole in this batch
        with ExitStack() as sessions:
            opened: dict[DeliveryChannel, Send] = {}
            for row in rows:
                channel = DeliveryChannel(row["channel"])
                try:
                    envelope = self._envelope(row, channel, orders_seen)
                except Unreachable as e:
                    self._settle(row, e.status, report, error=e.error)
                    continue
                if channel in down:
                    self._retry(row, down[channel], report)
                    continue
                try:
                    send = opened.get(channel) or self._open(channel, sessions)
                    opened[channel] = send
                    send(envelope)
                except Failed as e:
                    if e.channel_down:
                        down[channel] = e.error
                        opened.pop(channel, None)
                    if e.permanent:
                        self._settle(row, DeliveryStatus.UNDELIVERABLE, report, error=e.error)
                    else:
                        self._retry(row, e.error, report)
                    continue
                except Exception as e:  # a fault of ours: this message waits, the rest go on
                    log.error("delivery: %s failed with %s", row["key"], type(e).__name__)
                    self._retry(row, type(e).__name__, report)  # never str(e): it may quote
                    continue
                self._settle(row, DeliveryStatus.DELIVERED, report)

    def _open(self, channel: DeliveryChannel, sessions: ExitStack) -> Send:
        sender = self.channels[channel]
        if sender is None:
            raise Failed(NOT_CONFIGURED, channel_down=True)
        return sessions.enter_context(sender.session())

    def _envelope(
        self, row: Row, channel: DeliveryChannel, orders_seen: dict[str, Mapping[UUID, Contact]]
    ) -> Envelope:
        kind, _, ident = str(row["recipient"]).partition(":")
        if kind == "staff":
            address = self._staff_address(ident, channel)
        elif kind == "contact":
            address = self._contact_address(row["order_id"], UUID(ident), orders_seen)
        else:
            raise Unreachable(DeliveryStatus.UNDELIVERABLE, "UnknownRecipient")
        payload = row["payload"]
        return Envelope(
            key=row["key"],
            to=address,
            subject=render.subject(payload),
            text=render.text(payload),
            payload=payload,
        )

    def _staff_address(self, staff_id: str, channel: DeliveryChannel) -> str:
        member = self.staff.get(staff_id)
        address = None
        if member is not None:
            address = member["email"] if channel is DeliveryChannel.EMAIL else member["phone"]
        if not address:
            raise Unreachable(DeliveryStatus.UNDELIVERABLE, "NoAddress")
        return str(address)

    def _contact_address(
        self, order_id: str, contact_id: UUID, orders_seen: dict[str, Mapping[UUID, Contact]]
    ) -> str:
        """The contact's address from the order itself: gone from it means withdrawn."""
        if order_id not in orders_seen:
            try:
                orders_seen[order_id] = self.orders.get(UUID(order_id)).contacts
            except OrderNotFound:
                orders_seen[order_id] = {}
        contact = orders_seen[order_id].get(contact_id)
        if contact is None:
            raise Unreachable(DeliveryStatus.WITHDRAWN, "ConsentWithdrawn")
        if not contact.address:
            raise Unreachable(DeliveryStatus.UNDELIVERABLE, "NoAddress")
        return contact.address

    def _settle(
        self, row: Row, status: DeliveryStatus, report: Report, *, error: str | None = None
    ) -> None:
        if not self.outbox.settle(row, status=status, now=self.clock(), error=error):
            log.warning("delivery: the claim on %s ran out before it was settled", row["key"])
        if status is DeliveryStatus.DELIVERED:
            report.delivered += 1
        elif status is DeliveryStatus.WITHDRAWN:
            report.withdrawn += 1
        else:
            report.undeliverable += 1
            log.warning("delivery: %s is undeliverable (%s)", row["key"], error)

    def _retry(self, row: Row, error: str, report: Report) -> None:
        attempts = int(row["attempts"]) + 1
        now = self.clock()
        retry_at = now + self.backoff.after(attempts)
        pending = DeliveryStatus.PENDING
        self.outbox.settle(row, status=pending, now=now, error=error, retry_at=retry_at)
        report.retrying += 1
        report.errors[error] = report.errors.get(error, 0) + 1
