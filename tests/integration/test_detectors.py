"""The detectors over the real log: each rule fires when it should, and each finding once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import UUID

from orders.clock import SimulatedClock
from orders.values import Location, LocationKind, OrderKind, Position
from scheduler.detection import NAME, Detection
from service.bootstrap import Service
from tests.factories import INSPECTOR, LOW_RISK_ANSWERS, SOCIAL_WORKER, a_request, a_visit, terms

HOME = Position(42.8700, 74.5900)  # Bishkek
NEARBY = Position(42.8710, 74.5910)  # about 140 m away
OSH = Position(40.5300, 72.8000)  # about 300 km away


def order_with_home(service: Service, *, answers: dict[str, bool] = LOW_RISK_ANSWERS) -> UUID:
    request = a_request(service.orders.now())
    person = replace(
        request.protected_persons[0],
        locations=(Location(LocationKind.HOME, "14 Toktogul St", HOME),),
    )
    request = replace(request, protected_persons=(person, *request.protected_persons[1:]))
    order = service.orders.request(request, by=SOCIAL_WORKER)
    service.orders.assess_risk(order.id, answers, final_level=None, reason="", by=INSPECTOR)
    service.orders.issue(order.id, terms(service.orders.now(), kind=OrderKind.COURT), by=INSPECTOR)
    return order.id


def rules_found(service: Service, order_id: UUID) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for finding in service.orders.get(order_id).findings.values():
        found.setdefault(finding.flagged_version, set()).add(finding.rule)
    return found


def test_an_honest_visit_raises_no_finding(service: Service, clock: SimulatedClock) -> None:
    order_id = order_with_home(service)
    clock.advance(timedelta(hours=2))
    service.orders.record_visit(
        order_id, a_visit(clock() - timedelta(minutes=20), position=NEARBY), by=INSPECTOR
    )
    assert Detection(service.orders, service.views).run() == 0


def test_a_visit_far_from_the_home_and_an_impossible_journey_are_flagged(
    service: Service, clock: SimulatedClock
) -> None:
    first, second = order_with_home(service), order_with_home(service)
    clock.advance(timedelta(hours=3))
    service.orders.record_visit(
        first, a_visit(clock() - timedelta(hours=1), position=NEARBY), by=INSPECTOR
    )
    service.orders.record_visit(
        second, a_visit(clock() - timedelta(minutes=30), position=OSH), by=INSPECTOR
    )  # 300 km in 30 minutes, and far from her home
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
        service.orders.record_visit(
            order_id, a_visit(clock() - timedelta(hours=2), position=NEARBY), by=INSPECTOR
        )
    Detection(service.orders, service.views).run()
    assert rules_found(service, orders[-1]) == {4: {"batch_entry"}}
    assert all(rules_found(service, o) == {} for o in orders[:-1])


def test_each_finding_is_recorded_once_even_if_the_detectors_run_again(
    service: Service, clock: SimulatedClock
) -> None:
    order_id = order_with_home(service)
    clock.advance(timedelta(days=3))
    service.orders.record_visit(
        order_id, a_visit(clock() - timedelta(days=2), position=NEARBY), by=INSPECTOR
    )
    detection = Detection(service.orders, service.views)
    assert detection.run() == 1
    with service.views.db.transaction() as tx:  # as if it died before moving its position on
        tx.execute("UPDATE projection_tracking SET position = 0 WHERE view = ?", (NAME,))
    assert detection.run() == 0
    assert rules_found(service, order_id) == {4: {"backdated"}}
