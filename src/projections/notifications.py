"""Who is to be told what: the events that call for a message, made into the outbox's rows.

One projection keeps the staff directory, the protected persons' consenting contacts (ids and
channels, never addresses) and the outbox, in one transaction per batch. So each message's
recipients are the directory and the consents as they stood at its event. The outbox is kept
through a rebuild, which makes no message again for the events this projection had applied
before it began (projection.only_kept); any it does make again comes under the same key, which
the outbox already holds (ON CONFLICT DO NOTHING): nothing delivered is sent again.

What a message says is chosen here, field by field: ids, the kind of alert, its rung and
deadlines, the district; for a protected person, her order's new state and its dates. Never
a location, a narrative, an acknowledgement's note, or anything about the respondent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import singledispatchmethod
from typing import Any

from orders import events
from orders.alarms import IntegrityAlarm
from orders.alerting import Addressee, ContactChannel
from orders.clock import Clock
from orders.staff import StaffMember
from orders.values import Role
from projections import outbox, staff
from projections.database import Row, Transaction, iso, text
from projections.follower import View
from projections.outbox import DeliveryChannel, DeliveryStatus, Message

STALE_AFTER = timedelta(days=2)
"""News older than this when the outbox first sees it is recorded as stale and never sent:
the outbox's first start over an old log must not tell everyone about years of alerts."""

CONTACTS = (
    "CREATE TABLE IF NOT EXISTS notify_contacts ("
    "order_id TEXT NOT NULL, contact_id TEXT NOT NULL, person_id TEXT NOT NULL, "
    "channel TEXT NOT NULL, PRIMARY KEY (order_id, contact_id))",
)

CONTACTED = (  # the order's contacts, as recipients: e-mail by e-mail, SMS by the webhook
    "SELECT 'contact:' || contact_id AS recipient, "
    f"CASE channel WHEN '{ContactChannel.EMAIL}' THEN '{DeliveryChannel.EMAIL}' "
    f"ELSE '{DeliveryChannel.WEBHOOK}' END AS channel FROM notify_contacts WHERE order_id = ?"
)

NOBODY = "NobodyToTell"  # no member of staff in the addressee's role covers the district
NOT_IN_DIRECTORY = "NotInDirectory"  # the assigned inspector is not in the directory
STALE = "Stale"


class NotificationsView(View):
    """Projects the staff directory, the consents to be told, and a message for each alert
    step (to its addressees) and each change a protected person asked to hear about."""

    name = "notifications"
    only_kept = (  # the events that call for a message, which goes only to the outbox
        events.AlertRaised,
        events.AlertClimbed,
        events.AlertAcknowledged,
        events.AlertResolved,
        events.Issued,
        events.Served,
        events.ExpiryApproaching,
        events.Extended,
        events.Revoked,
        events.Expired,
        IntegrityAlarm.Raised,
    )
    accepts = (
        StaffMember.Enrolled,
        StaffMember.Changed,
        events.ContactRegistered,
        events.ContactWithdrawn,
        *only_kept,
    )
    tables = (*staff.TABLES, *CONTACTS, *outbox.TABLES)
    kept = ("outbox",)

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def begin(self, tx: Transaction) -> None:
        staff.read(tx)  # the directory, for the batch's messages to staff

    @singledispatchmethod
    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        pass  # events nobody is told about

    # The directory and the consents

    @apply.register
    def _(self, event: StaffMember.Enrolled, position: int, tx: Transaction) -> None:
        staff.apply(event, tx)

    @apply.register
    def _(self, event: StaffMember.Changed, position: int, tx: Transaction) -> None:
        staff.apply(event, tx)

    @apply.register
    def _(self, event: events.ContactRegistered, position: int, tx: Transaction) -> None:
        contact = event.contact
        tx.execute(
            "INSERT INTO notify_contacts (order_id, contact_id, person_id, channel) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (event.originator_id, contact.contact_id, contact.person_id, contact.channel.value),
        )

    @apply.register
    def _(self, event: events.ContactWithdrawn, position: int, tx: Transaction) -> None:
        tx.execute(
            "DELETE FROM notify_contacts WHERE order_id = ? AND contact_id = ?",
            (event.originator_id, event.contact_id),
        )

    # Alert steps, to staff

    @apply.register
    def _(self, event: events.AlertRaised, position: int, tx: Transaction) -> None:
        said = _alert(event) | {
            "rung": 1,
            "addressee": event.addressee.value,
            "due_at": iso(event.due_at),
            "acknowledge_by": iso(event.acknowledge_by),
        }
        self._to_staff(tx, event, position, "alert_raised", (event.addressee,), said)

    @apply.register
    def _(self, event: events.AlertClimbed, position: int, tx: Transaction) -> None:
        said = _alert(event) | {
            "rung": event.rung + 1,
            "addressee": event.addressee.value,
            "acknowledge_by": iso(event.acknowledge_by),
        }
        self._to_staff(tx, event, position, "alert_climbed", (event.addressee,), said)

    @apply.register
    def _(self, event: events.AlertAcknowledged, position: int, tx: Transaction) -> None:
        said = _alert(event) | {"acknowledged_at": iso(event.timestamp)}  # never the note
        self._to_staff(tx, event, position, "alert_acknowledged", event.told, said)

    @apply.register
    def _(self, event: events.AlertResolved, position: int, tx: Transaction) -> None:
        said = _alert(event) | {"resolved_at": iso(event.timestamp)}
        self._to_staff(tx, event, position, "alert_resolved", event.told, said)

    # Changes to an order, to the protected persons who asked to hear of them

    @apply.register
    def _(self, event: events.Issued, position: int, tx: Transaction) -> None:
        terms = event.terms
        dates = {"valid_from": iso(terms.valid_from), "valid_until": iso(terms.valid_until)}
        self._to_persons(tx, event, position, "issued", dates)

    @apply.register
    def _(self, event: events.Served, position: int, tx: Transaction) -> None:
        self._to_persons(tx, event, position, "served", {"served_at": iso(event.served_at)})

    @apply.register
    def _(self, event: events.ExpiryApproaching, position: int, tx: Transaction) -> None:
        dates = {"valid_until": iso(event.valid_until)}
        self._to_persons(tx, event, position, "expiry_approaching", dates)

    @apply.register
    def _(self, event: events.Extended, position: int, tx: Transaction) -> None:
        self._to_persons(tx, event, position, "extended", {"valid_until": iso(event.valid_until)})

    @apply.register
    def _(self, event: events.Revoked, position: int, tx: Transaction) -> None:
        self._to_persons(tx, event, position, "revoked", {"ended_at": iso(event.timestamp)})

    @apply.register
    def _(self, event: events.Expired, position: int, tx: Transaction) -> None:
        self._to_persons(tx, event, position, "expired", {"ended_at": iso(event.valid_until)})

    @apply.register
    def _(self, event: IntegrityAlarm.Raised, position: int, tx: Transaction) -> None:
        said = {"alarm_id": text(event.originator_id), "check": event.check}
        base = self._base(event, position, "integrity_alarm", said | {"detail": event.detail})
        admins = staff.in_role(tx, Role.ADMIN.value)
        if not admins:
            self._record(
                tx, base, Role.ADMIN.value, None, status=DeliveryStatus.UNDELIVERABLE, why=NOBODY
            )
        for member in admins:
            self._deliver(tx, base, member)

    # Making the messages

    def _to_staff(
        self,
        tx: Transaction,
        event: Any,
        position: int,
        topic: str,
        addressees: Iterable[Addressee],
        said: dict[str, Any],
    ) -> None:
        base = self._base(event, position, topic, said)
        for addressee in dict.fromkeys(addressees):
            members = _members(tx, Addressee(addressee), event)
            if not members:
                why = NOBODY if addressee is not Addressee.INSPECTOR else NOT_IN_DIRECTORY
                nobody = DeliveryStatus.UNDELIVERABLE
                self._record(tx, base, f"{addressee}", None, status=nobody, why=why)
            for member in members:
                self._deliver(tx, base, member)

    def _deliver(self, tx: Transaction, base: Message, member: Row) -> None:
        recipient = f"staff:{member['staff_id']}"
        if member["email"]:
            self._record(tx, base, recipient, DeliveryChannel.EMAIL)
        if member["phone"]:
            self._record(tx, base, recipient, DeliveryChannel.WEBHOOK)

    def _to_persons(
        self, tx: Transaction, event: Any, position: int, topic: str, dates: dict[str, Any]
    ) -> None:
        """A message to each contact of the order's protected persons, if any asked."""
        said = {"order_id": text(event.originator_id), "state": topic} | dates
        base = self._base(event, position, topic, said)
        outbox.record_each(tx, base, CONTACTED, (event.originator_id,))

    def _base(self, event: Any, position: int, topic: str, said: dict[str, Any]) -> Message:
        stale = self.clock() - event.timestamp > STALE_AFTER
        return Message(
            key=f"{text(event.originator_id)}:{event.originator_version}",
            position=position,
            order_id=text(event.originator_id),
            topic=topic,
            kind=said.get("kind"),
            recipient="",
            channel=None,
            payload={"topic": topic, "recorded_at": iso(event.timestamp)} | said,
            created_at=event.timestamp,
            status=DeliveryStatus.STALE if stale else DeliveryStatus.PENDING,
            reason=STALE if stale else None,
        )

    @staticmethod
    def _record(
        tx: Transaction,
        base: Message,
        recipient: str,
        channel: DeliveryChannel | None,
        *,
        status: DeliveryStatus = DeliveryStatus.PENDING,
        why: str | None = None,
    ) -> None:
        key = f"{base.key}:{recipient}" + ("" if channel is None else f":{channel}")
        if base.status is DeliveryStatus.STALE:
            status, why = base.status, base.reason
        message = Message(
            key=key,
            position=base.position,
            order_id=base.order_id,
            topic=base.topic,
            kind=base.kind,
            recipient=recipient,
            channel=channel,
            payload=base.payload,
            created_at=base.created_at,
            status=status,
            reason=why,
        )
        outbox.record(tx, message)


def _alert(event: Any) -> dict[str, Any]:
    return {
        "order_id": text(event.originator_id),
        "alert_id": text(event.alert_id),
        "kind": event.kind.value,
        "district": event.district,
    }


def _members(tx: Transaction, addressee: Addressee, event: Any) -> list[Row]:
    """The members of staff an addressee stands for at this order: its assigned inspector,
    or the district's staff in the addressee's role."""
    if addressee is Addressee.INSPECTOR:
        found = None if event.inspector_id is None else staff.member(tx, event.inspector_id)
        return [] if found is None else [found]
    return staff.covering(tx, addressee.value, event.district)
