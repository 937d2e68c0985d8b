"""Rows of the read models, and pages of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.notifications import DeliveriesOut
from api.schemas.orders import Out
from orders import values as v
from orders.alerting import Addressee, AlertKind

T = TypeVar("T", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    """One page of a list: its items, where it starts, and where the next page starts."""

    items: list[T]
    limit: int
    offset: int
    total: int | None = Field(None, description="How many there are in all, where counted.")
    next_offset: int | None = Field(None, description="The offset of the next page, if any.")


def page(
    model: type[T], rows: list[dict[str, Any]], *, limit: int, offset: int, total: int | None
) -> Page[T]:
    """A page of `rows` as `model`s; a full page has a next one unless the total says not."""
    items = [model.model_validate(row) for row in rows[:limit]]
    more = len(rows) > limit if total is None else offset + len(items) < total
    next_offset = offset + len(items) if more else None
    return Page[T](items=items, limit=limit, offset=offset, total=total, next_offset=next_offset)


class DisclosureOut(Out):
    """One read of an order's sensitive fields: who, in which role, what, when."""

    actor_id: str
    actor_role: v.Role
    fields: list[str]
    read_at: datetime


class OrderSummaryOut(Out):
    """One row of the current-state read model."""

    order_id: UUID
    status: v.Status
    district: str
    channel: v.Channel
    risk_level: v.RiskLevel | None
    needs_reassessment: bool
    inspector_id: str | None
    kind: v.OrderKind | None
    requested_at: datetime
    issued_at: datetime | None
    valid_from: datetime | None
    valid_until: datetime | None
    served: bool
    check_in_due: datetime | None
    check_in_deadline: datetime | None
    missed_check_ins: int
    missed_since_visit: int
    late_reports: int
    last_visit_recorded_at: datetime | None
    open_breaches: int
    open_escalations: int
    version: int
    updated_at: datetime


class TimelineEntryOut(Out):
    """One event of an order: who, what, the time claimed and the time the server recorded."""

    position: int
    version: int
    event_type: str
    actor_id: str
    actor_role: v.Role
    claimed_at: datetime | None
    recorded_at: datetime
    summary: str


class AuditRowOut(Out):
    """One inspector's or district's record over the range asked for."""

    group: str
    visits_due: int
    made_on_time: int
    made_late: int
    missed: int
    flagged: int
    median_delay_hours: float | None
    open_alerts: int


class LagOut(Out):
    """How far one read model is behind the log."""

    view: str
    position: int
    head: int
    behind: int


class HealthOut(Out):
    """Whether the service is up, its database, its policy, its read models' lag, and how
    the notifications' deliveries stand."""

    status: str
    database: str
    policy_version: str
    views: list[LagOut]
    deliveries: DeliveriesOut
    checkpoint_refusals: int = Field(
        0, description="How many times a checkpoint was refused: the log did not verify."
    )


class AlertOut(Out):
    """An open alert in a work queue: what it is about, where it stands on its ladder, and
    how long it has waited."""

    alert_id: UUID
    order_id: UUID
    kind: AlertKind
    subject: str
    district: str
    inspector_id: str | None
    due_at: datetime = Field(description="When the duty it is about fell due undone.")
    raised_at: datetime
    rung: int = Field(description="Its rung on the ladder, counting from 1.")
    addressee: Addressee = Field(description="Who it tells now.")
    acknowledge_by: datetime
    waited_hours: float = Field(description="Hours since its duty fell due.")
    late_to_acknowledge: bool = Field(description="Whether its rung's deadline has passed.")


class FindingInQueueOut(Out):
    """A detector's finding in the supervisors' queue: which report of which order, how
    strongly it points to a forgery, why, and its review once made."""

    finding_id: UUID
    order_id: UUID
    district: str
    inspector_id: str | None = Field(description="The order's assigned inspector.")
    rule: str
    strength: v.Strength
    evidence: str
    flagged_version: int = Field(description="The version of the order's event it is about.")
    flagged_at: datetime
    decision: v.Decision | None
    reviewed_at: datetime | None
