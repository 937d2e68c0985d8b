"""The labelled district benchmark: the generator keeps its word, and a small district replays
through the application into a table. How good the detectors are is not asserted here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from bench.detectors import FORGED, Replay, Scored, recall, render, tally
from bench.district import generate
from bench.forgeries import PATTERNS
from bench.world import HONEST, MIDNIGHT, District, Order

from orders.clock import SimulatedClock
from orders.policy import load_policy
from service.bootstrap import bootstrap
from service.settings import Settings

ORDERS, WEEKS = 40, 3  # small, yet every pattern has windows to forge


@pytest.fixture(scope="module")
def district() -> District:
    return generate(1, orders=ORDERS, weeks=WEEKS)


def test_a_seed_gives_the_same_district_every_time(district: District) -> None:
    assert generate(1, orders=ORDERS, weeks=WEEKS) == district
    assert generate(2, orders=ORDERS, weeks=WEEKS) != district


def test_every_report_is_labelled_and_every_forging_pattern_appears(district: District) -> None:
    labels = {report.label for report in district.reports}
    assert labels == {HONEST, *PATTERNS}
    assert all(r.visited_at is None for r in district.reports if r.label != HONEST)


def test_honest_reports_reach_the_server_within_two_days_of_the_visit(
    district: District,
) -> None:
    honest = [r for r in district.reports if r.label == HONEST]
    for report in honest:
        assert report.visited_at is not None
        assert report.claimed_at < report.at <= report.visited_at + timedelta(days=2)
        assert report.at - report.claimed_at <= timedelta(days=2)
        assert abs(report.claimed_at - report.visited_at) <= timedelta(minutes=40)
    within_hours = sum(r.at - r.claimed_at <= timedelta(hours=12) for r in honest)
    assert within_hours > 0.75 * len(honest)  # most within minutes to hours


def test_actions_come_in_the_order_the_server_records_them(district: District) -> None:
    times = [action.at for action in district.actions]
    assert times == sorted(times)
    issued = {a.index: a.at for a in district.actions if isinstance(a, Order)}
    assert all(issued[r.order] < r.claimed_at for r in district.reports)


@pytest.fixture(scope="module")
def replayed(
    district: District, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Replay, list[Scored]]]:
    folder = tmp_path_factory.mktemp("district")
    clock = SimulatedClock(MIDNIGHT)
    service = bootstrap(Settings(database_url=f"sqlite:///{folder}/orders.db"), clock=clock)
    replay = Replay(service, clock)
    yield replay, replay.run(district, lambda done, day: None)
    service.close()


def test_a_small_district_replays_into_a_table_with_a_recall_for_each_pattern(
    district: District, replayed: tuple[Replay, list[Scored]]
) -> None:
    _, scored = replayed
    assert [s.report for s in scored] == district.reports
    assert [s for s in scored if s.refused] == []
    table = tally(scored)
    assert set(recall(table)) == set(PATTERNS)
    assert table[HONEST].reports + sum(table[p].reports for p in PATTERNS) == len(scored)
    assert all(f"{p} (recall)" in render(table) for p in PATTERNS)
    assert "flagged by that rule alone" in render(table)
    for row in table.values():
        assert row.flagged_moderate <= row.flagged <= row.reports
        assert all(row.only_rule[rule] <= row.by_rule[rule] for rule in row.only_rule)
    alone = [s for s in scored if len(s.rules) == 1]
    assert sum(sum(t.only_rule.values()) for t in (table[HONEST], table[FORGED])) == len(alone)


def test_the_simulated_scheduler_records_each_missed_check_in_within_a_minute_of_its_deadline(
    replayed: tuple[Replay, list[Scored]],
) -> None:
    replay, _ = replayed
    grace = load_policy().check_in_grace
    alerts = [
        alert
        for order_id in replay.orders.values()
        for alert in replay.service.orders.get(order_id).scrutiny.alerts
    ]
    assert alerts
    for alert in alerts:
        late = alert.recorded_at - (alert.due_at + grace)
        assert timedelta(0) < late <= timedelta(minutes=1)


class DetectingOnceAtTheEnd(Replay):
    """The same replay, with the detectors down until every report is in."""

    def detect(self) -> None:
        pass


def findings_of(replay: Replay, district: District) -> dict[tuple[int, str], tuple[str, str]]:
    """Every finding, by report (its place in the district) and rule: its strength and its
    evidence, each order's id and event version written as the report they stand for (they
    differ from replay to replay: a finding recorded earlier shifts an order's versions)."""
    number = {id(report): n for n, report in enumerate(district.reports)}
    named = {
        f"order {order_id} event {version}": f"report #{number[id(report)]}"
        for (order_id, version), report in replay.filed.items()
    }
    found = {}
    for order_id in replay.orders.values():
        for f in replay.service.orders.get(order_id).scrutiny.findings:
            report = replay.filed[(order_id, f.flagged_version)]
            evidence = re.sub(r"order \S+ event \d+", lambda m: named[m.group()], f.evidence)
            found[(number[id(report)], f.rule)] = (f.strength.value, evidence)
    return found


def test_the_findings_do_not_depend_on_when_the_detectors_ran(
    district: District,
    replayed: tuple[Replay, list[Scored]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    daily, _ = replayed  # the detectors ran once a simulated day
    folder = tmp_path_factory.mktemp("once")
    clock = SimulatedClock(MIDNIGHT)
    service = bootstrap(Settings(database_url=f"sqlite:///{folder}/orders.db"), clock=clock)
    try:
        late = DetectingOnceAtTheEnd(service, clock)
        late.run(district, lambda done, day: None)
        Replay.detect(late)
        assert findings_of(late, district) == findings_of(daily, district)
        assert {rule for _, rule in findings_of(late, district)} >= {
            "impossible_travel",
            "one_place",
        }
    finally:
        service.close()
