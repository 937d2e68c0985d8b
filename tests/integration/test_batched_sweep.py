"""Many orders' decisions saved together: still one alert per missed window, whoever writes
meanwhile."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from orders.application import Outcome
from orders.clock import SimulatedClock
from orders.commands import Context, RecordMissedCheckIns
from orders.domain import ProtectionOrder
from orders.values import SYSTEM_ACTOR, OrderKind
from service.bootstrap import Service
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order

WEEK = timedelta(days=7)
GRACE = timedelta(hours=2)
MINUTE = timedelta(minutes=1)


def windows(service: Service, order_id: UUID) -> list[int]:
    """The windows the order's CheckInMissed events name, in the order recorded."""
    events = service.orders.repository.event_store.get(order_id)
    return [e.window for e in events if isinstance(e, ProtectionOrder.CheckInMissed)]


def test_a_write_meeting_a_batch_is_kept_and_the_batch_decides_again_on_it(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    sweeper, desk = make_service(), make_service()  # two processes on one database
    order_ids = [issued_order(desk.orders, kind=OrderKind.COURT) for _ in range(6)]
    clock.advance(WEEK + GRACE + MINUTE)
    met, interfered = order_ids[3], []

    class MissedWhileAReportIsFiled(RecordMissedCheckIns):
        """The sweep's command; but after the sweep loaded one order, and before it saved,
        the inspector's late report on that order is stored by another process, once."""

        def decide(self, order: ProtectionOrder, c: Context) -> int:
            if order.id == met and not interfered:
                interfered.append(order.id)
                desk.orders.handle(a_visit_command(clock() - WEEK), met, by=INSPECTOR)
            return super().decide(order, c)

    outcomes = sweeper.orders.handle_each(
        MissedWhileAReportIsFiled(), order_ids, by=SYSTEM_ACTOR, per_save=6
    )
    assert interfered == [met]
    assert all(isinstance(o, Outcome) and o.returned == 1 for o in outcomes), outcomes
    for order_id in order_ids:
        assert windows(sweeper, order_id) == [1]  # the late report satisfies no window
    assert len(sweeper.orders.get(met).visits) == 1  # and it is kept
