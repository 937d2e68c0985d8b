"""What an order keeps to decide with, and no more.

An order's commands check its status, terms, check-in windows, duties and open alerts, its
risk, and what its later reports are weighed against; the order keeps those, and counts where
a rule only counts (late reports, missed check-ins). It does not keep every visit report:
those are in its events, which the confidential read and the read models take them from.
Every attribute has a type the store's JSON transcoder keeps and gives back as it was
(orders.transcoding), so a snapshot of the order (orders.snapshots) restores it exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Self, TypeVar
from uuid import UUID

from orders.alerting import Contact, Duties
from orders.checkins import CheckIns
from orders.presence import PresenceProof, UsedCodes
from orders.proposals import Lowering
from orders.scrutiny import Scrutiny
from orders.values import Actor, Breach, Escalation, Request, RiskLevel, Status, Terms

V = TypeVar("V")


@dataclass(frozen=True)
class ById(Mapping[UUID, V]):
    """Values that each carry their own id, in the order they came: read as a mapping by id,
    kept as a list (a JSON object's keys could only be text)."""

    entries: tuple[V, ...] = ()

    def id_of(self, value: V) -> UUID:
        raise NotImplementedError

    def __getitem__(self, key: UUID) -> V:
        for value in self.entries:
            if self.id_of(value) == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[UUID]:
        return (self.id_of(value) for value in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def with_entry(self, value: V) -> Self:
        """With `value` in place of the one of its id, or added last."""
        key = self.id_of(value)
        if key not in self:
            return replace(self, entries=(*self.entries, value))
        return replace(
            self, entries=tuple(value if self.id_of(v) == key else v for v in self.entries)
        )

    def without(self, key: UUID) -> Self:
        return replace(self, entries=tuple(v for v in self.entries if self.id_of(v) != key))


class Breaches(ById[Breach]):
    """The order's breaches, as reported and whether answered, by breach id."""

    def id_of(self, value: Breach) -> UUID:
        return value.breach_id


class Escalations(ById[Escalation]):
    """The order's escalations, and whether each was acknowledged, by escalation id."""

    def id_of(self, value: Escalation) -> UUID:
        return value.escalation_id


class Contacts(ById[Contact]):
    """The protected persons' consents to be told, by contact id; a withdrawn one is gone."""

    def id_of(self, value: Contact) -> UUID:
        return value.contact_id


class OrderState:
    """Every attribute a protection order keeps, with its type (a snapshot restores each)."""

    requested_by: Actor
    request: Request
    status: Status
    risk_level: RiskLevel | None
    last_assessed_at: datetime | None
    needs_reassessment: bool
    terms: Terms | None
    check_ins: CheckIns | None
    missed_check_ins: int
    late_reports: int
    scrutiny: Scrutiny
    served_at: datetime | None
    breaches: Breaches
    escalations: Escalations
    ended_at: datetime | None
    duties: Duties
    contacts: Contacts
    lowering: Lowering | None
    proofs: tuple[PresenceProof, ...]
    used_codes: UsedCodes

    def _as_requested(self, actor: Actor, request: Request) -> None:
        """The state of an order just requested."""
        self.requested_by = actor
        self.request = request
        self.status = Status.REQUESTED
        self.risk_level = None
        self.last_assessed_at = None
        self.needs_reassessment = False
        self.terms = None
        self.check_ins = None
        self.missed_check_ins = 0
        self.late_reports = 0
        self.scrutiny = Scrutiny()
        self.served_at = None
        self.breaches = Breaches()
        self.escalations = Escalations()
        self.ended_at = None
        self.duties = Duties()
        self.contacts = Contacts()
        self.lowering = None
        self.proofs = ()
        self.used_codes = UsedCodes()
