"""Read models of the orders' events, kept exactly once in the event store's database."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application

from projections.activity import ActivityView
from projections.deadlines import DeadlinesView
from projections.disclosures import DisclosuresView
from projections.order_state import OrderStateView
from projections.runner import ProjectionRunner
from projections.timeline import TimelineView


def order_views(app: Application[Any]) -> ProjectionRunner:
    """A runner for every read model of the Orders application."""
    return ProjectionRunner(
        app, [OrderStateView(), TimelineView(), DeadlinesView(), DisclosuresView(), ActivityView()]
    )
