"""A read of an order's sensitive fields, kept as its own immutable record.

Disclosures live outside the order's stream: the order's history says what happened to the
protected person; its disclosures say who has seen where she lives.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from orders.values import Actor, Role

SENSITIVE_FIELDS = (
    "incident_narrative",
    "protected_persons.locations",
    "visits.position",
    "visits.notes",
    "breaches.description",
    "contacts.address",
)
"""The fields that only an audited read returns: the one list, for the whole project."""

SENSITIVE_READERS = frozenset({Role.SOCIAL_WORKER, Role.INSPECTOR, Role.PROSECUTOR})
"""The roles that may ask for them (in their districts), through the API or in a bundle."""


class Disclosure(Aggregate):
    """One read of sensitive fields: who, in which role, which order, which fields, when."""

    class Recorded(Aggregate.Created):
        order_id: UUID
        actor: Actor
        fields: tuple[str, ...]

    def __init__(self, order_id: UUID, actor: Actor, fields: tuple[str, ...]) -> None:
        self.order_id = order_id
        self.actor = actor
        self.fields = fields

    @classmethod
    def record(
        cls, order_id: UUID, *, by: Actor, fields: tuple[str, ...], at: datetime
    ) -> Disclosure:
        return cls._create(
            cls.Recorded, id=uuid4(), timestamp=at, order_id=order_id, actor=by, fields=fields
        )
