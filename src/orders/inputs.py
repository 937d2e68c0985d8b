"""The shapes of what people type into a command: bounded text, sane times, nested details.

Unknown fields, naive times and absurd values are refused before any rule is asked. Nothing
here knows about HTTP; the API publishes these shapes as they are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from orders import values as v

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; refuse it at the door
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
LongText = Annotated[str, Field(max_length=10_000, pattern=NO_NUL)]
Reason = Annotated[str, Field(min_length=1, max_length=2_000, pattern=NO_NUL)]
OptionalReason = Annotated[str, Field(max_length=2_000, pattern=NO_NUL)]
PersonId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def _sane_moment(moment: datetime) -> datetime:
    if not datetime(1900, 1, 1, tzinfo=UTC) <= moment <= datetime(2200, 1, 1, tzinfo=UTC):
        raise ValueError("must lie between 1900 and 2200")
    return moment.astimezone(UTC)


def _sane_birth_date(day: date) -> date:
    if not date(1900, 1, 1) <= day <= datetime.now(tz=UTC).date() + timedelta(days=1):
        raise ValueError("must lie between 1900-01-01 and today")
    return day


Moment = Annotated[AwareDatetime, AfterValidator(_sane_moment)]
"""A timezone-aware time, kept in UTC; a time without an offset is refused rather than guessed."""
BirthDate = Annotated[date, AfterValidator(_sane_birth_date)]


class Input(BaseModel):
    """Base of every input shape: strict about unknown fields, trims whitespace."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class PositionIn(Input):
    """A position fix in WGS84 degrees; a sensitive field."""

    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]

    def to_domain(self) -> v.Position:
        return v.Position(self.latitude, self.longitude)


class LocationIn(Input):
    """Where a protected person may be found; a sensitive field."""

    kind: v.LocationKind
    address: Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL)]
    position: PositionIn | None = None

    def to_domain(self) -> v.Location:
        return v.Location(
            self.kind, self.address, None if self.position is None else self.position.to_domain()
        )


class ProtectedPersonIn(Input):
    """A person the order is to protect; children are listed in their own right."""

    person_id: PersonId
    name: Text
    sex: v.Sex
    birth_date: BirthDate
    locations: Annotated[list[LocationIn], Field(max_length=10)] = Field(
        default=[], description="Sensitive: returned only by the audited confidential read."
    )

    def to_domain(self) -> v.ProtectedPerson:
        return v.ProtectedPerson(
            person_id=self.person_id,
            name=self.name,
            sex=self.sex,
            birth_date=self.birth_date,
            locations=tuple(location.to_domain() for location in self.locations),
        )


class RespondentIn(Input):
    """The person the order is to be against."""

    name: Text
    relationship: v.Relationship
    birth_date: BirthDate | None = None

    def to_domain(self) -> v.Respondent:
        return v.Respondent(self.name, self.relationship, self.birth_date)
