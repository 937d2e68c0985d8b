"""The detector rules over several reports of one inspector: a batch, a journey no one could
make, reports filed from one place, report after report without a position. Each flags every
report of the pattern, the earlier ones included, once the examined report completes it."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from orders.detectors import RULES, examine
from orders.evidence import Context, Found, Presence, Report, Shown
from orders.patterns import (
    _impossible,
    _impossible_runs,
    batch_entry,
    impossible_travel,
    one_place,
    without_position,
)
from orders.presence import Proof, Verdict
from orders.values import Position, Strength, VisitOutcome
from tests.factories import INSPECTOR
from tests.unit.test_detectors import (
    ADDRESS,
    ALERTED,
    CODES,
    HOME,
    NARRATIVE,
    NOTES,
    OSH,
    POLICY,
    T0,
    THRESHOLDS,
    an_order,
    an_order_whose_first_check_in_was_missed,
    filed,
    north_of,
    seen,
    visit,
)

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
NEAR_HER = Presence(Shown.NEAR, 0.02, proven=True)
FAR_FROM_HER = Presence(Shown.FAR, 2.4)
ORDER = an_order()  # the order each examined report is on; the rules here look at its peers


def a_report(
    claimed: datetime,
    recorded: datetime,
    *,
    position: Position | None = HOME,
    shown: Presence = NEAR_HER,
    order_id: UUID | None = None,
    outcome: VisitOutcome = VisitOutcome.PERSON_SAFE,
) -> Report:
    """One of the inspector's reports, on an order of its own unless given."""
    met = () if outcome is VisitOutcome.PERSON_NOT_FOUND else ("p1",)
    report = visit(claimed, position=position, outcome=outcome, met_with=met, notes=NOTES)
    return Report(order_id or uuid4(), 4, INSPECTOR.id, report, recorded, shown)


def among(others: list[Report]) -> Context:
    return Context(ORDER, others, THRESHOLDS)


def flagged(found: list[Found]) -> list[Report]:
    return [f.report for f in found]


# batch_entry

SITTING = T0 + 5 * DAY + 6 * HOUR  # a Saturday afternoon


def entered(*claimed: datetime, every: timedelta = 3 * MINUTE) -> list[Report]:
    """Reports typed one after another from SITTING, claiming the given times."""
    return [a_report(c, SITTING + i * every) for i, c in enumerate(claimed)]


def test_a_sitting_claiming_visits_days_apart_flags_every_report_of_the_batch() -> None:
    first, second, third = entered(T0, T0 + DAY, T0 + 2 * DAY + HOUR)
    assert batch_entry(second, among([first])) == []  # not yet a batch: one day apart
    found = batch_entry(third, among([first, second]))
    assert flagged(found) == [first, second, third]  # the earlier ones too
    assert {f.strength for f in found} == {Strength.STRONG}
    (evidence,) = {f.evidence for f in found}  # each names the same batch
    assert evidence.startswith("one of the 3 reports of batch insp-bakyt 2026-03-07 15:00 UTC")
    assert "claiming visits on 3 days, 2.0 days apart (threshold 2.0 days)" in evidence


def test_later_reports_of_a_recognised_batch_are_flagged_naming_it() -> None:
    reports = entered(T0, T0 + DAY, T0 + 2 * DAY + HOUR, T0 + 3 * DAY)
    found = batch_entry(reports[3], among(reports[:3]))
    assert flagged(found) == reports
    assert "one of the 4 reports of batch insp-bakyt 2026-03-07 15:00 UTC" in found[0].evidence


def test_a_sitting_that_enters_one_or_two_days_of_visits_is_no_batch() -> None:
    day = entered(*(T0 + 4 * DAY + h * HOUR for h in range(6)))
    assert batch_entry(day[-1], among(day[:-1])) == []
    two_days = entered(T0 + 3 * DAY, T0 + 3 * DAY + 5 * HOUR, T0 + 5 * DAY)
    assert batch_entry(two_days[-1], among(two_days[:-1])) == []  # exactly two days apart


def test_a_pause_longer_than_the_batch_window_ends_the_sitting() -> None:
    apart = entered(T0, T0 + DAY, T0 + 3 * DAY, every=THRESHOLDS.batch_window + MINUTE)
    assert batch_entry(apart[-1], among(apart[:-1])) == []
    close = entered(T0, T0 + DAY, T0 + 3 * DAY, every=THRESHOLDS.batch_window)
    assert flagged(batch_entry(close[-1], among(close[:-1]))) == close


def test_two_reports_days_apart_are_not_yet_a_batch() -> None:
    first, second = entered(T0, T0 + 4 * DAY)
    assert batch_entry(second, among([first])) == []


def test_reports_recorded_after_this_one_are_not_part_of_its_batch() -> None:
    first, second, third = entered(T0, T0 + DAY, T0 + 3 * DAY)
    assert batch_entry(first, among([second, third])) == []


# impossible_travel

TEN = T0 + HOUR  # a moment in the working day


def test_two_visits_too_close_for_their_distance_flag_both_reports() -> None:
    here = a_report(TEN, TEN + 5 * MINUTE)
    there = a_report(TEN + 8 * MINUTE, TEN + 12 * MINUTE, position=north_of(HOME, 2.5))
    found = impossible_travel(there, among([here]))
    assert flagged(found) == [here, there]  # both reports of the pair
    assert {f.strength for f in found} == {Strength.STRONG}
    assert str(there.order_id) in found[0].evidence  # each names the other
    assert str(here.order_id) in found[1].evidence
    evidence = found[0].evidence
    assert "one of 2 visits this inspector claims within 8 min" in evidence
    assert "2.5 km apart in all: they need at least 19 min" in evidence  # 15 + 3.75
    assert "the times claimed allow at most 12 min" in evidence  # 8, and 2 min either side


def test_visits_as_far_apart_in_time_as_the_visit_and_journey_take_are_possible() -> None:
    here = a_report(TEN, TEN + 5 * MINUTE)
    need = timedelta(minutes=18.75) - 4 * MINUTE  # 15 min, 2.5 km at 40 km/h; 2 min slack each
    second = timedelta(seconds=1)
    just = a_report(TEN + need + second, TEN + 30 * MINUTE, position=north_of(HOME, 2.5))
    rushed = a_report(TEN + need - second, TEN + 30 * MINUTE, position=north_of(HOME, 2.5))
    assert impossible_travel(just, among([here])) == []
    assert flagged(impossible_travel(rushed, among([here]))) == [here, rushed]


def test_a_visit_between_two_others_too_close_flags_the_whole_round() -> None:
    # Each pair can be made (16 min for 2.5 km and a visit); all three cannot (32 min for
    # 5 km and two visits: 37.5 min).
    a = a_report(TEN, TEN + 5 * MINUTE)
    b = a_report(TEN + 16 * MINUTE, TEN + 20 * MINUTE, position=north_of(HOME, 2.5))
    c = a_report(TEN + 32 * MINUTE, TEN + 36 * MINUTE)
    assert impossible_travel(b, among([a])) == []
    found = impossible_travel(c, among([a, b]))
    assert flagged(found) == [a, b, c]
    assert "one of 3 visits this inspector claims within 32 min" in found[0].evidence


def test_the_first_report_of_a_made_up_round_is_flagged_when_the_round_shows() -> None:
    a = a_report(TEN, TEN + 3 * MINUTE)
    b = a_report(TEN + 6 * MINUTE, TEN + 9 * MINUTE, position=north_of(HOME, 0.3))
    assert flagged(impossible_travel(b, among([a]))) == [a, b]  # 6 min for a whole visit


def test_times_remembered_hours_later_are_allowed_their_rounding() -> None:
    later = TEN + DAY
    here = a_report(TEN, later)
    there = a_report(TEN + 8 * MINUTE, later + 3 * MINUTE, position=north_of(HOME, 2.5))
    assert impossible_travel(there, among([here])) == []  # 8 min, but each time +-30 min
    on_the_spot = a_report(TEN + 8 * MINUTE, TEN + 9 * MINUTE, position=north_of(HOME, 2.5))
    assert impossible_travel(on_the_spot, among([a_report(TEN, TEN + 2 * MINUTE)])) != []


def test_a_visit_that_found_no_one_takes_minutes_not_a_quarter_hour() -> None:
    nobody = a_report(TEN, TEN + 2 * MINUTE, outcome=VisitOutcome.PERSON_NOT_FOUND)
    met = a_report(TEN, TEN + 2 * MINUTE)
    next_door = a_report(TEN + 8 * MINUTE, TEN + 10 * MINUTE, position=north_of(HOME, 1.0))
    assert impossible_travel(next_door, among([nobody])) == []  # 5 + 1.5 min in 12
    assert impossible_travel(next_door, among([met])) != []  # 15 + 1.5 min in 12


def test_travel_is_judged_between_positions_only() -> None:
    here = a_report(TEN, TEN + 2 * MINUTE, position=None)
    far_away = a_report(TEN + MINUTE, TEN + 3 * MINUTE, position=OSH)
    assert impossible_travel(far_away, among([here])) == []
    assert impossible_travel(here, among([far_away])) == []


# one_place

DESK = north_of(HOME, 3.0)  # his office, which is none of theirs


def at_desk(
    recorded: datetime,
    *,
    position: Position = DESK,
    shown: Presence = FAR_FROM_HER,
    order_id: UUID | None = None,
) -> Report:
    """A report filed at `recorded` from his desk, claiming a visit an hour before."""
    return a_report(recorded - HOUR, recorded, position=position, shown=shown, order_id=order_id)


def test_reports_on_three_orders_filed_from_one_spot_far_from_each_are_flagged() -> None:
    first, second = at_desk(T0), at_desk(T0 + 3 * DAY, position=north_of(DESK, 0.1))
    assert one_place(second, among([first])) == []  # two orders: not yet
    third = at_desk(T0 + 6 * DAY)
    found = one_place(third, among([first, second]))
    assert flagged(found) == [first, second, third]
    assert {f.strength for f in found} == {Strength.MODERATE}
    assert found[0].evidence == (
        f"one of 3 reports on 3 orders filed by this inspector within 150 m of the place of "
        f"order {third.order_id} event 4, from 2026-03-02 09:00 UTC to 2026-03-08 09:00 UTC; "
        "each at least 2.4 km from its protected persons' known locations"
    )


def test_reports_near_her_with_her_code_or_on_one_order_are_not_one_place() -> None:
    # Neighbours in one block, visited at home; a woman met at the station with her code.
    near = at_desk(T0, shown=NEAR_HER)
    coded = at_desk(T0 + DAY, shown=Presence(Shown.CODE, 2.4, proven=True))
    same_order = [at_desk(T0 + i * DAY, order_id=ORDER.id) for i in (2, 3)]
    examined = at_desk(T0 + 4 * DAY, order_id=ORDER.id)
    assert one_place(examined, among([near, coded, *same_order])) == []


def test_one_place_looks_back_only_so_far_and_so_near() -> None:
    old = at_desk(T0)
    apart = at_desk(T0 + 10 * DAY, position=north_of(DESK, 0.2))
    recent = at_desk(T0 + 12 * DAY)
    examined = at_desk(T0 + 15 * DAY)  # `old` is 15 days before: beyond the 14 looked back
    assert one_place(examined, among([old, apart, recent])) == []


# without_position


def reports_every_day(*with_position: bool) -> list[Report]:
    return [
        a_report(T0 + i * DAY, T0 + i * DAY + 10 * MINUTE, position=HOME if placed else None)
        for i, placed in enumerate(with_position)
    ]


def test_four_of_his_last_ten_reports_without_a_position_are_flagged() -> None:
    reports = reports_every_day(False, True, True, False, True, True, False, True, True, False)
    found = without_position(reports[-1], among(reports[:-1]))
    assert flagged(found) == [r for r in reports if r.visit.position is None]
    assert {f.strength for f in found} == {Strength.WEAK}
    assert found[0].evidence == (
        "one of 4 of this inspector's last 10 reports with no position (threshold 4 of 10), "
        "from 2026-03-02 09:10 UTC to 2026-03-11 09:10 UTC"
    )


def test_three_without_a_position_or_a_report_with_one_are_not_flagged() -> None:
    three = reports_every_day(False, True, True, True, True, False, True, True, True, False)
    assert without_position(three[-1], among(three[:-1])) == []
    placed = reports_every_day(False, False, False, False, True)
    assert without_position(placed[-1], among(placed[:-1])) == []


def test_only_his_last_ten_reports_within_the_look_back_count() -> None:
    eleven = reports_every_day(False, False, True, True, True, True, True, True, True, False, False)
    assert without_position(eleven[-1], among(eleven[:-1])) == []  # the first is 11th last
    blind = reports_every_day(False, False, False, False)
    spread = [replace(r, recorded_at=T0 + 5 * i * DAY) for i, r in enumerate(blind)]
    assert without_position(spread[-1], among(spread[:-1])) == []  # 15 days back and more


# no evidence gives away what is sensitive


def every_pattern() -> list[tuple[Report, Context]]:
    """Reports that complete each pattern, with their contexts."""
    sitting = entered(T0, T0 + DAY, T0 + 3 * DAY)
    round_ = [
        a_report(TEN, TEN + MINUTE),
        a_report(TEN + 2 * MINUTE, TEN + 3 * MINUTE, position=OSH),
    ]
    desk = [at_desk(T0 + i * DAY) for i in range(3)]
    blind = reports_every_day(False, False, False, False)
    return [(group[-1], among(group[:-1])) for group in (sitting, round_, desk, blind)]


def test_no_evidence_repeats_an_address_a_position_a_code_a_narrative_or_notes() -> None:
    order = an_order_whose_first_check_in_was_missed()
    order.report_breach(
        occurred_at=T0 + 6 * DAY + 12 * HOUR,
        description="He broke the door",
        by=INSPECTOR,
        at=T0 + 6 * DAY + 13 * HOUR,
        policy=POLICY,
    )
    report = visit(T0 + 6 * DAY, notes=NOTES, position=OSH)
    alone = filed(order, report, at=ALERTED + HOUR, rules=CODES)
    out_of_time = Proof(Verdict.OUT_OF_TIME, uuid4(), 1, 26 * 60)  # her code, another day
    coded = filed(order, replace(report, proof=out_of_time), at=ALERTED + HOUR, rules=CODES)
    findings = [
        (rule, found)
        for examined, context in [
            (alone, seen(order, CODES)),
            (coded, seen(order, CODES)),
            *every_pattern(),
        ]
        for rule, found in examine(examined, context)
    ]
    assert {rule for rule, _ in findings} == set(RULES)
    sensitive = [ADDRESS, NARRATIVE, NOTES, "Aizada", "Emir", "Ruslan"]  # no code is kept at all
    for position in (HOME, OSH, DESK):
        sensitive += [f"{position.latitude:.3f}", f"{position.longitude:.3f}"]
    for rule, found in findings:
        for text in sensitive:
            assert text not in found.evidence, (rule, text)


def test_the_runs_found_are_those_the_definition_gives_on_random_days_of_visits() -> None:
    """Each run through the examined report that cannot be made, though both runs one report
    shorter within it can, as `_impossible` judges each run on its own: the spans worked out
    one from another find exactly these, on days of visits near and far, hurried and not."""
    rules, draw = THRESHOLDS, random.Random(11)
    for _ in range(300):
        at, run = TEN, []
        for _ in range(draw.randint(2, 14)):
            at += draw.choice((2, 5, 9, 16, 25, 40)) * MINUTE
            where = north_of(HOME, draw.choice((0.0, 0.2, 1.0, 2.5, 6.0)))
            outcome = draw.choice((VisitOutcome.PERSON_SAFE, VisitOutcome.PERSON_NOT_FOUND))
            run.append(a_report(at, at + MINUTE, position=where, outcome=outcome))
        k = draw.randrange(len(run))
        defined = [
            run[i : j + 1]
            for i in range(k + 1)
            for j in range(max(k, i + 1), len(run))
            if _impossible(run[i : j + 1], rules)
            and not (
                (i < k and _impossible(run[i + 1 : j + 1], rules))
                or (j > k and _impossible(run[i:j], rules))
            )
        ]
        assert _impossible_runs(run, k, rules) == defined
