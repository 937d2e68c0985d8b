"""Driving the service to a given point in an order's life."""

from __future__ import annotations

from uuid import UUID

from orders.application import Orders
from tests.factories import HIGH_RISK_ANSWERS, INSPECTOR, SOCIAL_WORKER, a_request, terms


def issued_order(
    orders: Orders,
    *,
    answers: dict[str, bool] = HIGH_RISK_ANSWERS,
    district: str = "Lenin",
    **term_changes: object,
) -> UUID:
    """A requested, assessed and issued order, valid from now; returns its id."""
    order = orders.request(a_request(orders.now(), district=district), by=SOCIAL_WORKER)
    orders.assess_risk(order.id, answers, final_level=None, reason="", by=INSPECTOR)
    orders.issue(order.id, terms(orders.now(), **term_changes), by=INSPECTOR)
    return order.id
