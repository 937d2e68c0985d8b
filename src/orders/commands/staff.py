"""What an admin sends to keep the staff directory: one entry, enrolled or changed.

Not an order's command (a directory is not an order): these are the inputs of
orders.directory, which the API offers under /staff to admins only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from orders.inputs import NO_NUL, Input
from orders.values import Role

StaffId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00/\s]+$")]
District = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")]
StaffRole = Literal["social_worker", "inspector", "supervisor", "prosecutor", "reader", "admin"]
Phone = Annotated[str, Field(max_length=32, pattern=r"^\+?[0-9][0-9 ()-]{3,30}$")]


class StaffEntry(Input):
    """A member of staff's role, the districts they cover ("*" for all) and where to reach
    them: an e-mail address, a phone number for SMS, or both."""

    role: StaffRole
    districts: Annotated[list[District], Field(max_length=100)]
    email: Email | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _reachable(self) -> StaffEntry:
        if self.email is None and self.phone is None:
            raise ValueError("email or phone: at least one is needed to reach them")
        return self

    @property
    def staff_role(self) -> Role:
        return Role(self.role)

    @property
    def district_set(self) -> tuple[str, ...]:
        """The districts, each once, in a stable order."""
        return tuple(sorted(set(self.districts)))


class EnrolStaff(StaffEntry):
    """Enrol a member of staff in the directory of who is told about alerts."""

    staff_id: StaffId
