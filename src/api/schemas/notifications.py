"""The staff directory's entries, the outbox's messages and the delivery backlog, as answered.

A message is shown by its key, kind, channel and delivery state: never its address or body.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.orders import Out
from orders import values as v


class StaffOut(Out):
    """One member of staff: role, districts covered, and where they are reached."""

    staff_id: str
    role: v.Role
    districts: list[str]
    email: str | None
    phone: str | None
    version: int
    enrolled_at: datetime
    updated_at: datetime


class NotificationOut(Out):
    """One message of the outbox and how its delivery stands (never its address or body)."""

    key: str = Field(description="The idempotency key receivers use to drop repeats.")
    order_id: str
    topic: str = Field(description="What happened: alert_raised, alert_climbed, issued, ...")
    kind: str | None = Field(description="The kind of alert, for an alert's step.")
    recipient: str = Field(description="staff:<id>, contact:<id>, or the rung nobody covers.")
    channel: str | None
    status: str = Field(description="pending, delivered, undeliverable, withdrawn or stale.")
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None = Field(description="The class of the last error, if any.")
    created_at: datetime
    settled_at: datetime | None


class DeliveriesOut(Out):
    """How the outbox's deliveries stand: what waits and for how long, what keeps failing,
    what could not be delivered."""

    pending: int
    failing: int = Field(description="Pending messages whose last attempt failed.")
    undeliverable: int
    withdrawn: int
    stale: int
    oldest_pending_seconds: float | None = Field(
        description="How long the oldest message not yet delivered has waited."
    )
