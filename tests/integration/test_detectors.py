"""The detectors over the real log: each rule fires when it should, and each finding once."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from orders.clock import SimulatedClock
from orders.inputs import LocationIn, PositionIn
from orders.values import LocationKind, OrderKind
from scheduler.detection import Detection, Detectors
from service.bootstrap import Service
from tests.factories import (
    INSPECTOR,
    LOW_RISK_ANSWERS,
    SOCIAL_WORKER,
    a_visit_command,
    an_assessment,
    issue_order,
    request_order,
)

HOME = PositionIn(latitude=42.8700, longitude=74.5900)  # Bishkek
NEARBY = PositionIn(latitude=42.8710, longitude=74.5910)  # about 140 m away
OSH = PositionIn(latitude=40.5300, longitude=72.8000)  # about 300 km away


def order_with_home(service: Service, *, answers: dict[str, bool] = LOW_RISK_ANSWERS) -> UUID:
    orders = service.orders
    request = request_order(orders.now())
    mother, *children = request.protected_persons
    home = LocationIn(kind=LocationKind.HOME, address="14 Toktogul St", position=HOME)
    mother = mother.model_copy(update={"locations": [home]})
    request = request.model_copy(update={"protected_persons": [mother, *children]})
    order = orders.handle(request, by=SOCIAL_WORKER).order
    orders.handle(an_assessment(answers), order.id, by=INSPECTOR)
    orders.handle(issue_order(orders.now(), kind=OrderKind.COURT), order.id, by=INSPECTOR)
    return order.id


def rules_found(service: Service, order_id: UUID) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for finding in service.orders.get(order_id).scrutiny.findings:
        found.setdefault(finding.flagged_version, set()).add(finding.rule)
    return found


def test_an_honest_visit_raises_no_finding(service: Service, clock: SimulatedClock) -> None:
    order_id = order_with_home(service)
    clock.advance(timedelta(hours=2))
    service.orders.handle(
        a_visit_command(clock() - timedelta(minutes=20), position=NEARBY), order_id, by=INSPECTOR
    )
    service.views.catch_up()  # the follower: the detectors read the timeline
    assert Detection(service.orders, service.views).run() == 0


def test_a_visit_far_from_the_home_and_an_impossible_journey_are_flagged(
    service: Service, clock: SimulatedClock
) -> None:
    first, second = order_with_home(service), order_with_home(service)
    clock.advance(timedelta(hours=3))
    service.orders.handle(
        a_visit_command(clock() - timedelta(hours=1), position=NEARBY), first, by=INSPECTOR
    )
    service.orders.handle(
        a_visit_command(clock() - timedelta(minutes=30), position=OSH), second, by=INSPECTOR
    )  # 300 km in 30 minutes, and far from her home
    service.views.catch_up()  # the follower: the detectors read the timeline
    Detection(service.orders, service.views).run()
    assert rules_found(service, second) == {4: {"far_from_protected_location", "impossible_travel"}}
    assert rules_found(service, first) == {}


def test_many_reports_entered_within_minutes_are_flagged_as_batch_entry(
    service: Service, clock: SimulatedClock
) -> None:
    orders = [order_with_home(service) for _ in range(5)]
    clock.advance(timedelta(hours=6))
    for order_id in orders:
        clock.advance(timedelta(minutes=1))
        service.orders.handle(
            a_visit_command(clock() - timedelta(hours=2), position=NEARBY), order_id, by=INSPECTOR
        )
    service.views.catch_up()  # the follower: the detectors read the timeline
    Detection(service.orders, service.views).run()
    assert rules_found(service, orders[-1]) == {4: {"batch_entry"}}
    assert all(rules_found(service, o) == {} for o in orders[:-1])


def test_each_finding_is_recorded_once_even_if_the_detectors_run_again(
    service: Service, clock: SimulatedClock
) -> None:
    order_id = order_with_home(service)
    clock.advance(timedelta(days=3))
    service.orders.handle(
        a_visit_command(clock() - timedelta(days=2), position=NEARBY), order_id, by=INSPECTOR
    )
    detection = Detection(service.orders, service.views)
    service.views.catch_up()  # the follower: the detectors read the timeline
    assert detection.run() == 1
    with service.views.db.transaction() as tx:  # as if it died before moving its position on
        tx.execute("UPDATE projection_tracking SET position = 0 WHERE view = ?", (Detectors.name,))
    service.views.catch_up()  # the follower: the detectors read the timeline
    assert detection.run() == 0
    assert rules_found(service, order_id) == {4: {"backdated"}}
