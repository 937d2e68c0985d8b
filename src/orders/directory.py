"""The staff directory's use cases: the only code that loads and saves staff members.

Members are saved through the Orders application, beside the orders, so they share its log,
its seals and its read models; a message's recipients are resolved from the directory as it
stood at the alert's position in that log.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from orders import errors
from orders.application import Orders
from orders.commands.staff import EnrolStaff, StaffEntry
from orders.staff import StaffMember, staff_uuid
from orders.values import Actor

CONFLICT_ATTEMPTS = 3


@dataclass(frozen=True)
class Saved:
    """A member as saved, and the log position reached (None: nothing new was stored)."""

    member: StaffMember
    position: int | None


class Directory:
    """Enrols members of staff and changes their entries, as admins ask."""

    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    def get(self, staff_id: str) -> StaffMember:
        try:
            member: object = self.orders.repository.get(staff_uuid(staff_id))
        except AggregateNotFoundError:
            raise errors.StaffMemberNotFound(staff_id) from None
        if not isinstance(member, StaffMember):
            raise errors.StaffMemberNotFound(staff_id)
        return member

    def enrol(self, entry: EnrolStaff, *, by: Actor) -> Saved:
        member = StaffMember.enrol(
            entry.staff_id,
            role=entry.staff_role,
            districts=entry.district_set,
            email=entry.email,
            phone=entry.phone,
            by=by,
            at=self.orders.now(),
        )
        try:
            return Saved(member, self._save(member))
        except RecordConflictError:
            raise errors.StaffMemberAlreadyEnrolled(
                "a member of staff with this id is enrolled already; change their entry instead"
            ) from None

    def change(self, staff_id: str, entry: StaffEntry, *, by: Actor) -> Saved:
        """Replace the member's role, districts and contact; a write that meets another is
        decided again on the fresh entry."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            member = self.get(staff_id)
            changed = member.change(
                role=entry.staff_role,
                districts=entry.district_set,
                email=entry.email,
                phone=entry.phone,
                by=by,
                at=self.orders.now(),
            )
            if not changed:
                return Saved(member, None)
            try:
                return Saved(member, self._save(member))
            except RecordConflictError:
                if attempt == CONFLICT_ATTEMPTS:
                    raise errors.ConcurrentChange(
                        "the entry was changed by someone else; reload it and try again"
                    ) from None
        raise AssertionError("unreachable")

    def _save(self, member: StaffMember) -> int | None:
        recordings = self.orders.save(member)
        return max((r.notification.id for r in recordings), default=None)
