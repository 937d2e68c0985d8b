"""A member of staff who can be told about alerts: kept as its own aggregate, one per person.

The directory answers "who could have been told" as the record stood at any moment: each
enrolment and change is an event, attributed to the admin who made it. A member's id is the
account id the order's terms name (an inspector's `inspector_id`); the aggregate's UUID is
derived from it, so one id is enrolled once.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from orders.values import Actor, Role

NAMESPACE = UUID("6f1d8a52-2f0e-4c8e-9a51-5d7c3e1b0a44")


def staff_uuid(staff_id: str) -> UUID:
    """The aggregate id of the staff member with account id `staff_id`."""
    return uuid5(NAMESPACE, staff_id)


class StaffMember(Aggregate):
    """One member of staff: role, the districts they cover, where to reach them (sensitive)."""

    class Enrolled(Aggregate.Created):
        actor: Actor
        staff_id: str
        role: Role
        districts: tuple[str, ...]
        email: str | None
        phone: str | None

    class Changed(Aggregate.Event):
        """An admin changed the member's role, districts or contact."""

        actor: Actor
        role: Role
        districts: tuple[str, ...]
        email: str | None
        phone: str | None

        def apply(self, member: StaffMember) -> None:
            member.role = Role(self.role)
            member.districts, member.email, member.phone = self.districts, self.email, self.phone

    def __init__(
        self,
        actor: Actor,
        staff_id: str,
        role: Role,
        districts: tuple[str, ...],
        email: str | None,
        phone: str | None,
    ) -> None:
        self.staff_id = staff_id
        self.role = Role(role)
        self.districts = districts
        self.email = email
        self.phone = phone

    @classmethod
    def enrol(
        cls,
        staff_id: str,
        *,
        role: Role,
        districts: tuple[str, ...],
        email: str | None,
        phone: str | None,
        by: Actor,
        at: datetime,
    ) -> StaffMember:
        return cls._create(
            cls.Enrolled,
            id=staff_uuid(staff_id),
            timestamp=at,
            actor=by,
            staff_id=staff_id,
            role=role,
            districts=districts,
            email=email,
            phone=phone,
        )

    def change(
        self,
        *,
        role: Role,
        districts: tuple[str, ...],
        email: str | None,
        phone: str | None,
        by: Actor,
        at: datetime,
    ) -> bool:
        """Record the new entry; returns whether anything changed (nothing: no event)."""
        if (role, districts, email, phone) == (self.role, self.districts, self.email, self.phone):
            return False
        self.trigger_event(
            self.Changed,
            timestamp=at,
            actor=by,
            role=role,
            districts=districts,
            email=email,
            phone=phone,
        )
        return True
