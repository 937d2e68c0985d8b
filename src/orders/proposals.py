"""Proposals an order holds until a second person decides on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orders.values import RiskLevel


@dataclass(frozen=True)
class Lowering:
    """A proposed lower risk level awaiting a second person's approval."""

    proposal_id: UUID
    level: RiskLevel
    proposed_by: str
    proposed_at: datetime
