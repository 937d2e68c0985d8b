"""Each read model is given only the events it reads: every event it has a handler for."""

from __future__ import annotations

import pytest

from orders.clock import system_clock
from projections.activity import ActivityView
from projections.alerts import AlertsView
from projections.deadlines import DeadlinesView
from projections.findings import FindingsView
from projections.follower import View
from projections.notifications import NotificationsView
from projections.order_state import OrderStateView

VIEWS = (
    OrderStateView(),
    DeadlinesView(),
    ActivityView(),
    AlertsView(),
    FindingsView(),
    NotificationsView(system_clock),
)


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.name)
def test_a_view_accepts_every_event_it_has_a_handler_for(view: View) -> None:
    handled = [t for t in type(view).__dict__["apply"].dispatcher.registry if t is not object]
    assert handled
    assert [t for t in handled if not issubclass(t, view.accepts)] == []
