"""Read models of the orders' events, kept exactly once in the event store's database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application

from orders.clock import Clock, system_clock
from projections.activity import ActivityView, Audit
from projections.alerts import Alerts, AlertsView
from projections.deadlines import Deadlines, DeadlinesView
from projections.disclosures import Disclosures, DisclosuresView
from projections.findings import Findings, FindingsView
from projections.follower import Follower
from projections.notifications import NotificationsView
from projections.order_state import OrderStates, OrderStateView
from projections.outbox import Outbox
from projections.staff import Staff
from projections.timeline import Timelines, TimelineView


def order_views(app: Application[Any], *, clock: Clock = system_clock) -> Follower:
    """A follower keeping every read model of the Orders application; `clock` tells the
    outbox how old the news it is given is."""
    return Follower(
        app,
        [
            OrderStateView(),
            TimelineView(),
            DeadlinesView(),
            DisclosuresView(),
            ActivityView(),
            AlertsView(),
            FindingsView(),
            NotificationsView(clock),
        ],
    )


@dataclass(frozen=True)
class Queries:
    """The read models' queries, and the follower that keeps them (for lag and waits)."""

    views: Follower
    states: OrderStates
    timelines: Timelines
    deadlines: Deadlines
    disclosures: Disclosures
    audit: Audit
    alerts: Alerts
    findings: Findings
    staff: Staff
    outbox: Outbox

    @classmethod
    def over(cls, views: Follower) -> Queries:
        db = views.db
        return cls(
            views,
            OrderStates(db),
            Timelines(db),
            Deadlines(db),
            Disclosures(db),
            Audit(db),
            Alerts(db),
            Findings(db),
            Staff(db),
            Outbox(db),
        )
