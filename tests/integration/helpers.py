"""Driving the service to a given point in an order's life."""

from __future__ import annotations

from uuid import UUID

from orders.application import Orders
from tests.factories import (
    HIGH_RISK_ANSWERS,
    INSPECTOR,
    SOCIAL_WORKER,
    an_assessment,
    issue_order,
    request_order,
)


def issued_order(
    orders: Orders,
    *,
    answers: dict[str, bool] = HIGH_RISK_ANSWERS,
    district: str = "Lenin",
    **term_changes: object,
) -> UUID:
    """A requested, assessed and issued order, valid from now; returns its id."""
    order = orders.handle(request_order(orders.now(), district=district), by=SOCIAL_WORKER).order
    orders.handle(an_assessment(answers), order.id, by=INSPECTOR)
    orders.handle(issue_order(orders.now(), **term_changes), order.id, by=INSPECTOR)
    return order.id
