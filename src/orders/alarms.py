"""An alarm about the store itself, kept as its own immutable record and told to the admins.

A refused checkpoint (the log did not verify) or a witness refusing the service's checkpoint
belongs to no order: it says the record as a whole may have been rewritten. It is recorded in
the log like any event (so it is sealed and, once the store is sound again, signed) and the
notifications projection sends it to every admin.
"""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from eventsourcing.domain import Aggregate


class IntegrityAlarm(Aggregate):
    """The store failed a check: which check, and what it found (ids and counts, no content)."""

    class Raised(Aggregate.Created):
        check: str
        detail: str

    def __init__(self, check: str, detail: str) -> None:
        self.check = check
        self.detail = detail

    @classmethod
    def raised(cls, check: str, detail: str, *, at: datetime) -> IntegrityAlarm:
        return cls._create(cls.Raised, id=uuid4(), timestamp=at, check=check, detail=detail)
