"""Decisions about duties and alerts: raising an alert when a duty lapses, climbing the
ladder, acknowledging and resolving alerts, and the protected persons' contacts to be told.

These commands are part of the protection order (`ProtectionOrder` inherits them). Deadlines
are derived from the deadline that lapsed, never from when a sweep happened to run, so a
sweep after hours of downtime records the same alerts, rungs and deadlines as a punctual one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from orders import errors, events, guards
from orders.alerting import (
    EXPIRY_NOTICE,
    Addressee,
    AlertKind,
    Awaited,
    Contact,
    ContactChannel,
    Duties,
    OpenAlert,
)
from orders.checkins import CheckIns
from orders.policy import Policy
from orders.state import Contacts
from orders.values import Actor, Request, Status, Terms

OWN_LAPSES = (AlertKind.MISSED_CHECK_IN, AlertKind.REASSESSMENT_OVERDUE)
"""Alerts about the assigned inspector's own duty: told to him first, never silenced by him."""


class AlertDecisions:
    """The order's commands about its duties, its alerts and who is told."""

    id: UUID
    status: Status
    request: Request
    terms: Terms | None
    duties: Duties
    contacts: Contacts
    trigger_event: Callable[..., Any]

    def _deadlines(
        self, check_ins: CheckIns | None = None, duties: Duties | None = None
    ) -> dict[str, datetime | None]:
        raise NotImplementedError

    @property
    def person_ids(self) -> set[str]:
        raise NotImplementedError

    @property
    def _where(self) -> dict[str, Any]:
        """Whom an alert's addressees are found through: the district and assigned inspector."""
        inspector = None if self.terms is None else self.terms.inspector_id
        return {"district": self.request.district, "inspector_id": inspector}

    # Raising and climbing (the sweep)

    def raise_alert(
        self,
        kind: AlertKind,
        subject: str,
        *,
        due_at: datetime,
        by: Actor,
        at: datetime,
        policy: Policy,
        starts_at: Addressee = Addressee.INSPECTOR,
    ) -> UUID:
        """Raise an alert about a duty that lapsed at `due_at`: it tells the first rung of the
        policy's ladder for `kind` (from `starts_at` up), who must acknowledge it within the
        rung's time of `due_at`."""
        full = policy.ladders[kind]
        ladder = tuple(r for r in full if r.notify.rank >= starts_at.rank) or full[-1:]
        alert_id = uuid4()
        acknowledge_by = due_at + ladder[0].acknowledge_within
        alert = OpenAlert(alert_id, kind, subject, at, ladder, 0, acknowledge_by)
        self.trigger_event(
            events.AlertRaised,
            timestamp=at,
            actor=by,
            alert_id=alert_id,
            kind=kind,
            subject=subject,
            due_at=due_at,
            ladder=ladder,
            acknowledge_by=acknowledge_by,
            **self._where,
            **self._deadlines(duties=self.duties.raised(alert)),
        )
        return alert_id

    def attend_to_duties(self, *, by: Actor, at: datetime, policy: Policy) -> int:
        """Raise an alert for every duty lapsed by `at` and climb every alert left
        unacknowledged past its rung's deadline; returns how many events that took."""
        done = 0
        for lapsed in self.duties.due_at(at):
            self._lapse(lapsed, by=by, at=at, policy=policy)
            done += 1
        while (alert := self.duties.climbing_at(at)) is not None:
            up = alert.climbed()
            self.trigger_event(
                events.AlertClimbed,
                timestamp=at,
                actor=by,
                alert_id=alert.alert_id,
                kind=alert.kind,
                rung=up.rung,
                addressee=up.addressee,
                acknowledge_by=up.acknowledge_by,
                **self._where,
                **self._deadlines(duties=self.duties.climbed(alert.alert_id)),
            )
            done += 1
        return done

    def _lapse(self, lapsed: Awaited, *, by: Actor, at: datetime, policy: Policy) -> None:
        if lapsed.kind == EXPIRY_NOTICE:
            assert self.terms is not None and self.terms.valid_until is not None
            self.trigger_event(
                events.ExpiryApproaching,
                timestamp=at,
                actor=by,
                valid_until=self.terms.valid_until,
                **self._deadlines(duties=self.duties.done(EXPIRY_NOTICE)),
            )
            return
        kind = AlertKind(lapsed.kind)
        self.raise_alert(kind, lapsed.subject, due_at=lapsed.due_at, by=by, at=at, policy=policy)

    # Acknowledging and resolving

    def acknowledge_alert(self, alert_id: UUID, *, note: str, by: Actor, at: datetime) -> None:
        """Someone at the alert's current rung or above takes it up, saying what they will do."""
        alert = self._open(alert_id)
        guards.says_why(note, "an acknowledgement")
        standing = Addressee.of(by.role)
        if standing is None or standing.rank < alert.addressee.rank:
            raise errors.AlertAboveYourRung(
                f"the alert is now with the {alert.addressee}; a {by.role} cannot acknowledge it"
            )
        if alert.kind in OWN_LAPSES and self._assigned(by):
            raise errors.AlertAboutYourOwnLapse(
                f"the alert is about the assigned inspector's own {alert.kind}: it climbs "
                "until someone above acknowledges it"
            )
        self._close(events.AlertAcknowledged, alert, by=by, at=at, note=note)
        if alert.kind is AlertKind.ESCALATION:
            self.trigger_event(
                events.EscalationAcknowledged,
                timestamp=at,
                actor=by,
                escalation_id=UUID(alert.subject),
                **self._deadlines(),
            )

    def _assigned(self, by: Actor) -> bool:
        return self.terms is not None and by.id == self.terms.inspector_id

    def resolve_alerts(
        self, kind: AlertKind, subject: str, *, reason: str, by: Actor, at: datetime
    ) -> None:
        """Close the open alerts of `kind` about `subject`: what they waited for was done."""
        for alert in self.duties.alerts_about(kind, subject):
            self._close(events.AlertResolved, alert, by=by, at=at, reason=reason)

    def _close(
        self,
        event: type[events.AlertClosed],
        alert: OpenAlert,
        *,
        by: Actor,
        at: datetime,
        **why: str,
    ) -> None:
        self.trigger_event(
            event,
            timestamp=at,
            actor=by,
            alert_id=alert.alert_id,
            kind=alert.kind,
            told=alert.told,
            **why,
            **self._where,
            **self._deadlines(duties=self.duties.closed(alert.alert_id)),
        )

    def _open(self, alert_id: UUID) -> OpenAlert:
        alert = self.duties.alert(alert_id)
        if alert is None:
            raise errors.AlertNotFound("the order has no open alert with this id")
        return alert

    # Who is told

    def register_contact(
        self, person_id: str, *, channel: ContactChannel, address: str, by: Actor, at: datetime
    ) -> UUID:
        """Record a protected person's consent to be told about her order, and where."""
        if person_id not in self.person_ids:
            raise errors.UnknownProtectedPerson("person_id", "not a protected person of this order")
        if self.status in (Status.EXPIRED, Status.REVOKED):
            raise errors.OrderNotInForce(f"the order is {self.status}")
        contact = Contact(uuid4(), person_id, channel, address)
        self.trigger_event(events.ContactRegistered, timestamp=at, actor=by, contact=contact)
        return contact.contact_id

    def withdraw_contact(self, contact_id: UUID, *, by: Actor, at: datetime) -> None:
        """Record that a protected person withdrew her consent: nothing more goes to it."""
        if contact_id not in self.contacts:
            raise errors.ContactNotFound("the order has no contact with this id")
        self.trigger_event(events.ContactWithdrawn, timestamp=at, actor=by, contact_id=contact_id)
