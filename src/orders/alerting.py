"""Alerts that climb a ladder until someone acts, and the duties whose lapse raises them.

A duty is something the order waits for by a deadline: a police response to a breach, a
reassessment, a notice before expiry. When a duty's deadline passes undone, the order raises
an alert of that kind. An alert tells the first rung of its kind's ladder (from the policy,
copied into the alert so a later policy never rewrites it); if nobody at that rung (or above)
acknowledges it by the rung's deadline, it climbs to the next rung, whose deadline counts from
the previous one, so a sweep that runs late records the same climbs with the same times.

`Duties` is the one value that knows what the order waits for and when the sweep must next
look at it (`next_at`); events carry that time and the deadlines view copies it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from orders.values import Role


class AlertKind(StrEnum):
    """What an alert is about; each kind has its own ladder in the policy."""

    MISSED_CHECK_IN = "missed_check_in"
    BREACH_UNANSWERED = "breach_unanswered"
    REASSESSMENT_OVERDUE = "reassessment_overdue"
    ESCALATION = "escalation"


REASSESSMENT = AlertKind.REASSESSMENT_OVERDUE
RISK = "risk"  # the subject of a reassessment: the order's risk as a whole
EXPIRY_NOTICE = "expiry_notice"


class Addressee(StrEnum):
    """Who a rung tells: the order's assigned inspector, or its district's staff in a role."""

    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    PROSECUTOR = "prosecutor"

    @property
    def rank(self) -> int:
        return list(Addressee).index(self)

    @classmethod
    def of(cls, role: Role) -> Addressee | None:
        """The rung a role stands at, or None for roles on no ladder."""
        return {Role.INSPECTOR: cls.INSPECTOR, Role.SUPERVISOR: cls.SUPERVISOR}.get(
            role, cls.PROSECUTOR if role is Role.PROSECUTOR else None
        )


@dataclass(frozen=True)
class Rung:
    """One step of a ladder: who is told, and how long they have to acknowledge."""

    notify: Addressee
    acknowledge_within: timedelta


@dataclass(frozen=True)
class OpenAlert:
    """An alert not yet acknowledged or resolved: its ladder and where it stands on it."""

    alert_id: UUID
    kind: AlertKind
    subject: str
    raised_at: datetime
    ladder: tuple[Rung, ...]
    rung: int
    acknowledge_by: datetime

    @property
    def addressee(self) -> Addressee:
        return self.ladder[self.rung].notify

    @property
    def told(self) -> tuple[Addressee, ...]:
        """Everyone told so far, in the order they were told, once each."""
        return tuple(dict.fromkeys(r.notify for r in self.ladder[: self.rung + 1]))

    @property
    def climbs(self) -> bool:
        """Whether a rung is left above this one."""
        return self.rung + 1 < len(self.ladder)

    def climbed(self) -> OpenAlert:
        """This alert one rung up: the new deadline counts from the last one, not from now."""
        rung = self.rung + 1
        return replace(
            self,
            rung=rung,
            acknowledge_by=self.acknowledge_by + self.ladder[rung].acknowledge_within,
        )


@dataclass(frozen=True)
class Awaited:
    """A duty the order waits for: what it is about, and by when."""

    kind: str  # the AlertKind its lapse raises, or "expiry_notice"
    subject: str
    due_at: datetime


@dataclass(frozen=True)
class Duties:
    """What the order waits for, and its open alerts."""

    awaited: tuple[Awaited, ...] = ()
    alerts: tuple[OpenAlert, ...] = ()

    @property
    def next_at(self) -> datetime | None:
        """The earliest time something falls due or an alert climbs; None: nothing to watch."""
        times = [a.due_at for a in self.awaited]
        times += [a.acknowledge_by for a in self.alerts if a.climbs]
        return min(times, default=None)

    # What is awaited

    def awaiting(self, kind: str, subject: str, due_at: datetime) -> Duties:
        """Wait for `kind` about `subject` by `due_at`, replacing any earlier wait for it."""
        rest = tuple(a for a in self.awaited if (a.kind, a.subject) != (kind, subject))
        return replace(self, awaited=(*rest, Awaited(kind, subject, due_at)))

    def done(self, kind: str, subject: str | None = None) -> Duties:
        """Stop waiting for `kind` (about `subject`, or about anything)."""
        kept = tuple(
            a
            for a in self.awaited
            if not (a.kind == kind and (subject is None or a.subject == subject))
        )
        return replace(self, awaited=kept)

    def breach_reported(
        self, breach_id: UUID, respond_by: datetime, reassess_by: datetime
    ) -> Duties:
        """Wait for the police to answer the breach, and for a reassessment no later than
        `reassess_by`."""
        waiting = self.waiting_for(REASSESSMENT)
        if waiting is not None and waiting.due_at <= reassess_by:
            reassess_by = waiting.due_at
        return self.awaiting(AlertKind.BREACH_UNANSWERED, str(breach_id), respond_by).awaiting(
            REASSESSMENT, RISK, reassess_by
        )

    def issued(self, reassess_by: datetime, notify_expiry_at: datetime | None) -> Duties:
        """Wait for the first reassessment, and to tell those who asked before expiry."""
        return self.reassessed(reassess_by).extended(notify_expiry_at)

    def reassessed(self, reassess_by: datetime | None) -> Duties:
        """A reassessment was made: the next one is due by `reassess_by` (None: not yet
        issued, nothing due)."""
        rest = self.done(REASSESSMENT)
        return rest if reassess_by is None else rest.awaiting(REASSESSMENT, RISK, reassess_by)

    def extended(self, notify_expiry_at: datetime | None) -> Duties:
        """The order now ends later: the notice before expiry moves with it (None: none)."""
        rest = self.done(EXPIRY_NOTICE)
        if notify_expiry_at is None:
            return rest
        return rest.awaiting(EXPIRY_NOTICE, "", notify_expiry_at)

    def ended(self) -> Duties:
        """The order ended: no more reassessments or notices; a breach that happened while it
        was in force still awaits its response, and open alerts stay until acknowledged."""
        kept = tuple(a for a in self.awaited if a.kind == AlertKind.BREACH_UNANSWERED)
        return replace(self, awaited=kept)

    def due_at(self, now: datetime) -> list[Awaited]:
        """The duties whose deadline has passed at `now`, earliest first."""
        return sorted((a for a in self.awaited if a.due_at <= now), key=lambda a: a.due_at)

    def waiting_for(self, kind: str, subject: str | None = None) -> Awaited | None:
        return next(
            (
                a
                for a in self.awaited
                if a.kind == kind and (subject is None or a.subject == subject)
            ),
            None,
        )

    # Alerts

    def raised(self, alert: OpenAlert) -> Duties:
        """With `alert` open; the duty it is about, if awaited, is no longer waited for."""
        rest = self.done(alert.kind, alert.subject)
        return replace(rest, alerts=(*self.alerts, alert))

    def climbed(self, alert_id: UUID) -> Duties:
        return replace(
            self,
            alerts=tuple(a.climbed() if a.alert_id == alert_id else a for a in self.alerts),
        )

    def closed(self, alert_id: UUID) -> Duties:
        return replace(self, alerts=tuple(a for a in self.alerts if a.alert_id != alert_id))

    def alert(self, alert_id: UUID) -> OpenAlert | None:
        return next((a for a in self.alerts if a.alert_id == alert_id), None)

    def alerts_about(self, kind: AlertKind, subject: str | None = None) -> list[OpenAlert]:
        return [
            a for a in self.alerts if a.kind is kind and (subject is None or a.subject == subject)
        ]

    def climbing_at(self, now: datetime) -> OpenAlert | None:
        """The alert that should have climbed earliest by `now`, if any."""
        due = [a for a in self.alerts if a.climbs and a.acknowledge_by < now]
        return min(due, key=lambda a: a.acknowledge_by, default=None)


class ContactChannel(StrEnum):
    """How a protected person wishes to be told: by e-mail, or by SMS through the gateway."""

    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class Contact:
    """A protected person's consent to be told about her order, and where; `address` is a
    sensitive field."""

    contact_id: UUID
    person_id: str
    channel: ContactChannel
    address: str
