"""The sweep saves many orders' decisions together: still one alert per missed window, whoever
writes meanwhile, and one order that fails holds back no other."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from orders import events
from orders.application import Outcome
from orders.clock import SimulatedClock
from orders.commands import Context, FlagReport, RecordMissedCheckIns
from orders.domain import ProtectionOrder
from orders.values import SYSTEM_ACTOR, OrderKind, Strength
from projections.database import iso
from scheduler import sweep as sweeping
from scheduler.sweep import sweep
from service.bootstrap import Service
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order
from tests.tampering import is_sqlite, sql

WEEK = timedelta(days=7)
GRACE = timedelta(hours=2)
MINUTE = timedelta(minutes=1)


def windows(service: Service, order_id: UUID) -> list[int]:
    """The windows the order's CheckInMissed events name, in the order recorded."""
    events = service.orders.repository.event_store.get(order_id)
    return [e.window for e in events if isinstance(e, ProtectionOrder.CheckInMissed)]


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of five orders from the view, saved two at a time: a dozen orders go through
    several pages and several transactions."""
    monkeypatch.setattr(sweeping, "PAGE", 5)
    monkeypatch.setattr(sweeping, "PER_SAVE", 2)


@pytest.mark.usefixtures("small_pages")
def test_a_sweep_over_many_orders_records_each_missed_window_once(
    service: Service, clock: SimulatedClock
) -> None:
    order_ids = [issued_order(service.orders, kind=OrderKind.COURT) for _ in range(12)]
    clock.advance(2 * WEEK + GRACE + MINUTE)  # two weekly windows missed by each
    service.views.catch_up()
    assert sweep(service.orders, service.views, service.deadlines).missed_check_ins == 24
    service.views.catch_up()
    assert sweep(service.orders, service.views, service.deadlines).missed_check_ins == 0
    for order_id in order_ids:
        assert windows(service, order_id) == [1, 2]


def test_the_sweep_saves_the_orders_it_alerts_in_one_transaction(
    service: Service, clock: SimulatedClock, database_url: str
) -> None:
    if is_sqlite(database_url):
        pytest.skip("PostgreSQL names the transaction that wrote each row (xmin); SQLite does not")
    for _ in range(6):
        issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(WEEK + GRACE + MINUTE)
    service.views.catch_up()
    before = service.views.head()
    assert sweep(service.orders, service.views, service.deadlines).missed_check_ins == 6
    transactions = sql(
        database_url,
        "SELECT DISTINCT xmin::text FROM orders_events WHERE notification_id > %s",
        (before,),
    )
    assert len(transactions) == 1


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
    kept = sweeper.orders.repository.event_store.get(met)
    assert len([e for e in kept if isinstance(e, events.InspectionVisitRecorded)]) == 1


@pytest.mark.usefixtures("small_pages")
def test_an_order_that_fails_holds_back_no_other_order_saved_with_it(
    service: Service, clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    order_ids = [issued_order(service.orders, kind=OrderKind.COURT) for _ in range(5)]
    clock.advance(WEEK + GRACE + MINUTE)
    service.views.catch_up()
    ghost = uuid4()  # a row the view holds for an order that cannot be loaded
    with service.views.db.transaction() as tx:
        tx.execute(
            "INSERT INTO deadlines (order_id, check_in_deadline) VALUES (?, ?)",
            (ghost, iso(clock() - 2 * WEEK)),  # due first: in the first page and first save
        )
    result = sweep(service.orders, service.views, service.deadlines)
    assert (result.missed_check_ins, result.failed) == (5, 1)
    for order_id in order_ids:
        assert windows(service, order_id) == [1]
    assert f"sweep failed on order {ghost}" in caplog.text


@pytest.mark.parametrize(
    ("kind", "after", "due"),
    [
        (OrderKind.COURT, WEEK - MINUTE, False),  # nothing yet
        (OrderKind.COURT, WEEK, True),  # the check-in's duty lapses, the window is open
        (OrderKind.COURT, WEEK + GRACE + MINUTE, True),  # and now the window is missed
        (OrderKind.TEMPORARY, timedelta(days=1) - MINUTE, False),
        (OrderKind.TEMPORARY, timedelta(days=1), True),
    ],
)
def test_anything_due_agrees_with_the_sweeps_three_queries(
    service: Service, clock: SimulatedClock, kind: OrderKind, after: timedelta, due: bool
) -> None:
    issued_order(service.orders, kind=kind)
    clock.advance(after)
    service.views.catch_up()
    now, deadlines = clock(), service.deadlines
    found = [*deadlines.check_ins_overdue(now), *deadlines.expiries_due(now)]
    found += deadlines.duties_due(now)
    assert deadlines.anything_due(now) is due
    assert bool(found) is due


def test_commands_to_orders_given_together_are_saved_together_each_in_its_order(
    service: Service, clock: SimulatedClock
) -> None:
    """`handle_pairs` (orders.together): two findings on one report and one on another
    order's go in two saves, each order's in the order given; a refusal holds back none."""
    first, second = (issued_order(service.orders) for _ in range(2))
    clock.advance(timedelta(hours=1))
    visits = [
        service.orders.handle(a_visit_command(clock()), o, by=INSPECTOR).order.version
        for o in (first, second)
    ]

    def flag(rule: str, version: int) -> FlagReport:
        return FlagReport(
            rule=rule, strength=Strength.MODERATE, evidence="e", flagged_version=version
        )

    pairs = [
        (flag("batch_entry", visits[0]), first),
        (flag("cover_up", visits[0]), first),
        (flag("batch_entry", visits[1]), second),
        (flag("batch_entry", 1), uuid4()),  # no such order: refused
        (flag("batch_entry", visits[0]), first),  # the same finding again: nothing new
    ]
    outcomes = service.orders.handle_pairs(pairs, by=SYSTEM_ACTOR)
    assert [o.returned if isinstance(o, Outcome) else type(o).__name__ for o in outcomes] == [
        True,
        True,
        True,
        "OrderNotFound",
        False,
    ]
    rules = [
        e.finding.rule
        for e in service.orders.repository.event_store.get(first)
        if isinstance(e, events.ReportFlagged)
    ]
    assert rules == ["batch_entry", "cover_up"]
