"""The detectors over the real log: a pattern flags its earlier reports on their own orders,
each finding once, whenever the detectors run."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import UUID

from orders.clock import SimulatedClock
from orders.inputs import LocationIn, PositionIn
from orders.values import LocationKind, OrderKind, Strength
from scheduler.detection import Detection, Detectors
from service.bootstrap import Service
from service.work import detect_now
from tests.conftest import ServiceFactory
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
ACROSS_TOWN = PositionIn(latitude=42.8970, longitude=74.5900)  # 3 km north
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def order_with_home(service: Service) -> UUID:
    orders = service.orders
    request = request_order(orders.now())
    mother, *children = request.protected_persons
    home = LocationIn(kind=LocationKind.HOME, address="14 Toktogul St", position=HOME)
    mother = mother.model_copy(update={"locations": [home]})
    request = request.model_copy(update={"protected_persons": [mother, *children]})
    order = orders.handle(request, by=SOCIAL_WORKER).order
    orders.handle(an_assessment(LOW_RISK_ANSWERS), order.id, by=INSPECTOR)
    orders.handle(issue_order(orders.now(), kind=OrderKind.COURT), order.id, by=INSPECTOR)
    return order.id


def report(service: Service, order_id: UUID, *, claimed_ago: timedelta, **changes: object) -> int:
    """File a visit report claiming a visit `claimed_ago`; returns its version."""
    command = a_visit_command(service.orders.now() - claimed_ago, **changes)
    return service.orders.handle(command, order_id, by=INSPECTOR).order.version


def detect(service: Service) -> int:
    service.views.catch_up()  # the follower: the detectors read the timeline
    return Detection(service.orders, service.views).run()


def findings(service: Service, order_id: UUID) -> dict[int, dict[str, tuple[Strength, str]]]:
    found: dict[int, dict[str, tuple[Strength, str]]] = {}
    for f in service.orders.get(order_id).scrutiny.findings:
        found.setdefault(f.flagged_version, {})[f.rule] = (f.strength, f.evidence)
    return found


def test_an_honest_visit_raises_no_finding(service: Service, clock: SimulatedClock) -> None:
    order_id = order_with_home(service)
    clock.advance(2 * HOUR)
    report(service, order_id, claimed_ago=20 * MINUTE, position=NEARBY)
    assert detect(service) == 0


def test_an_impossible_journey_flags_both_reports_each_on_its_own_order(
    service: Service, clock: SimulatedClock
) -> None:
    first, second = order_with_home(service), order_with_home(service)
    clock.advance(3 * HOUR)
    here = report(service, first, claimed_ago=10 * MINUTE, position=NEARBY)
    assert detect(service) == 0  # examined on its own, the first report is fine
    clock.advance(4 * MINUTE)
    there = report(service, second, claimed_ago=2 * MINUTE, position=ACROSS_TOWN)
    assert detect(service) == 2  # 3 km and a visit in 12 minutes: both reports flagged
    ((strength, evidence),) = findings(service, first)[here].values()
    assert strength is Strength.STRONG
    assert f"order {second} event {there}" in evidence  # each names the other
    assert f"order {first} event {here}" in findings(service, second)[there]["impossible_travel"][1]


def test_a_batch_flags_its_earliest_reports_once_it_is_recognised(
    service: Service, clock: SimulatedClock
) -> None:
    orders = [order_with_home(service) for _ in range(4)]
    clock.advance(6 * DAY)
    versions = []
    for order_id, days_ago in zip(orders, (5, 4, 2, 1), strict=True):
        clock.advance(3 * MINUTE)
        versions.append(report(service, order_id, claimed_ago=days_ago * DAY, position=NEARBY))
        if len(versions) == 2:
            assert detect(service) == 0  # two reports, three days apart: not yet a batch
    assert detect(service) == 4  # the third completes it: all three, then the fourth
    named = set()
    for order_id, version in zip(orders, versions, strict=True):
        ((strength, evidence),) = findings(service, order_id)[version].values()
        assert strength is Strength.STRONG
        batch = re.search(r"batch \S+ [\d-]+ [\d:]+ UTC", evidence)
        assert batch is not None, evidence
        named.add(batch.group())
    assert named == {f"batch {INSPECTOR.id} {(clock() - 9 * MINUTE):%Y-%m-%d %H:%M} UTC"}


def test_each_finding_is_recorded_once_even_if_the_detectors_run_again(
    service: Service, clock: SimulatedClock
) -> None:
    first, second = order_with_home(service), order_with_home(service)
    clock.advance(3 * HOUR)
    report(service, first, claimed_ago=10 * MINUTE, position=NEARBY)
    report(service, second, claimed_ago=2 * MINUTE, position=ACROSS_TOWN)
    detection = Detection(service.orders, service.views)
    service.views.catch_up()
    assert detection.run() == 2
    with service.views.db.transaction() as tx:  # as if it died before moving its position on
        tx.execute(
            "UPDATE projection_tracking SET tx = 0, position = 0 WHERE view = ?", (Detectors.name,)
        )
    service.views.catch_up()
    assert detection.run() == 0
    assert [len(findings(service, o)) for o in (first, second)] == [1, 1]


def test_the_service_keeps_its_detectors_so_a_report_judged_once_is_not_read_again(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    service = make_service()
    first, second, third = (order_with_home(service) for _ in range(3))
    clock.advance(3 * HOUR)
    here = report(service, first, claimed_ago=10 * MINUTE, position=NEARBY)
    service.views.catch_up()
    assert detect_now(service) == 0
    clock.advance(4 * MINUTE)
    report(service, second, claimed_ago=2 * MINUTE, position=ACROSS_TOWN)
    service.views.catch_up()
    assert detect_now(service) == 2  # the second run compares with the first's report ...
    assert service.detection.detectors.read == 0  # ... judged by the first run, and kept
    assert service.detection.detectors.found == 2  # (these runs were the service's own)
    clock.advance(HOUR)
    report(service, third, claimed_ago=5 * MINUTE, position=NEARBY)
    elsewhere = make_service()  # another process, which judged nothing yet
    elsewhere.views.catch_up()
    assert detect_now(elsewhere) == 0  # the two earlier reports were examined already ...
    assert elsewhere.detection.detectors.read == 2  # ... and are read to compare with the third
    assert here in findings(service, first)
