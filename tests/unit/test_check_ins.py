"""The check-in value: when windows fall due, which one a report meets, what is pending."""

from datetime import UTC, datetime, timedelta

from orders.checkins import CheckIns, MissedWindow, Segment

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY, HOUR, SECOND = timedelta(days=1), timedelta(hours=1), timedelta(seconds=1)
GRACE = 2 * HOUR


def check_ins(
    every: timedelta | None = 3 * DAY, *, ends_at: datetime = T0 + 10 * DAY, at_end: bool = True
) -> CheckIns:
    """By default every three days from T0, two hours' grace, for ten days, the end a check-in:
    windows due at 3, 6, 9, 10."""
    return CheckIns.starting(T0, every=every, grace=GRACE, ends_at=ends_at, at_end=at_end)


def tightened(value: CheckIns, every: timedelta, *, at: datetime) -> CheckIns:
    tighter = value.tightened(every, at=at)
    assert tighter is not None
    return tighter


def dues(value: CheckIns) -> list[datetime]:
    return [due for _, due in value.windows()]


# Windows


def test_windows_fall_due_every_cadence_and_the_last_at_the_end_of_the_order() -> None:
    value = check_ins()
    assert [value.due_of(n) for n in (1, 2, 3, 4, 5)] == [
        T0 + 3 * DAY,
        T0 + 6 * DAY,
        T0 + 9 * DAY,
        T0 + 10 * DAY,
        None,
    ]


def test_when_the_end_is_no_check_in_a_window_falling_due_after_it_is_no_window() -> None:
    value = check_ins(at_end=False)
    assert dues(value) == [T0 + 3 * DAY, T0 + 6 * DAY, T0 + 9 * DAY]
    assert value.due_of(4) is None
    assert value.window_containing(T0 + 9 * DAY + HOUR) is None  # after the last window
    assert check_ins(ends_at=T0 + 9 * DAY, at_end=False).due_of(3) == T0 + 9 * DAY  # on time


def test_a_short_order_whose_end_is_no_check_in_has_no_window_at_all() -> None:
    value = check_ins(ends_at=T0 + 2 * DAY, at_end=False)
    assert value.windows() == []
    assert (value.due, value.deadline) == (None, None)
    assert check_ins(ends_at=T0 + 2 * DAY).windows() == [(T0, T0 + 2 * DAY)]


def test_a_level_without_check_ins_has_no_windows_even_at_the_end() -> None:
    value = check_ins(None)
    assert value.every is None
    assert value.windows() == []
    assert (value.pending, value.due, value.deadline) == (1, None, None)
    assert value.missed_at(T0 + 100 * DAY) is None
    assert value.window_containing(T0 + DAY) is None
    assert value.counts_for(T0 + DAY, T0 + DAY) is None


def test_a_newly_issued_orders_first_window_falls_due_one_cadence_after_issue() -> None:
    value = check_ins()
    assert value.segments == (Segment(1, T0, T0 + 3 * DAY, 3 * DAY),)
    assert (value.pending, value.due) == (1, T0 + 3 * DAY)


def test_a_windows_deadline_is_its_due_time_plus_grace() -> None:
    value = check_ins()
    assert value.deadline_of(1) == T0 + 3 * DAY + GRACE
    assert value.deadline_of(4) == T0 + 10 * DAY + GRACE
    assert value.deadline_of(5) is None


def test_the_window_containing_a_claimed_time_ignores_grace() -> None:
    value = check_ins()
    assert value.window_containing(T0 - DAY) is None  # before the order: no window
    assert value.window_containing(T0) == 1  # the order's start opens its first window
    assert value.window_containing(T0 + 3 * DAY) == 1  # the due time closes its window
    assert value.window_containing(T0 + 3 * DAY + SECOND) == 2
    assert value.window_containing(T0 + 10 * DAY) == 4
    assert value.window_containing(T0 + 10 * DAY + SECOND) is None  # after the end


def test_windows_lists_every_window_with_its_opening_and_due_time() -> None:
    assert check_ins(ends_at=T0 + 5 * DAY).windows() == [
        (T0, T0 + 3 * DAY),
        (T0 + 3 * DAY, T0 + 5 * DAY),
    ]


# Which window a report meets


def test_a_report_meets_the_window_its_claimed_time_lies_in_if_recorded_by_its_deadline() -> None:
    value = check_ins()
    claimed = T0 + 2 * DAY  # in window 1
    assert value.counts_for(claimed, claimed) == 1
    assert value.counts_for(claimed, T0 + 3 * DAY + GRACE) == 1  # recorded inside the grace
    assert not value.is_late(claimed, T0 + 3 * DAY + GRACE)
    assert value.counts_for(T0 + 3 * DAY + HOUR, T0 + 3 * DAY + HOUR) == 2  # in the grace
    # of window 1, a visit made after its due time lies in window 2


def test_a_report_recorded_after_its_windows_deadline_is_late_and_meets_no_window() -> None:
    value = check_ins()
    claimed, late = T0 + 2 * DAY, T0 + 3 * DAY + GRACE + SECOND
    assert value.counts_for(claimed, late) is None  # not window 1, whose deadline passed
    assert value.is_late(claimed, late)
    assert value.counts_for(claimed, T0 + 5 * DAY) is None  # nor window 2, open when entered


def test_a_claimed_time_in_no_window_meets_none_and_is_late_only_after_the_end() -> None:
    value = check_ins(None)
    assert value.counts_for(T0 + DAY, T0 + 2 * DAY) is None
    assert not value.is_late(T0 + DAY, T0 + 10 * DAY + GRACE)
    assert value.is_late(T0 + DAY, T0 + 10 * DAY + GRACE + SECOND)


def test_backfilling_every_alerted_window_leaves_every_window_pending_until_alerted() -> None:
    value = check_ins(ends_at=T0 + 30 * DAY)
    for window in range(1, 7):
        deadline = value.deadline_of(window)
        assert deadline is not None
        missed = value.missed_at(deadline + SECOND)
        assert missed is not None and missed.window == window  # every window is alerted
        value = value.cover(window)
        backfill = value.counts_for(missed.opened_at + DAY, deadline + HOUR)
        assert backfill is None  # the cover-up meets no window, not even the open one
        assert value.pending == window + 1


# The pending check-in


def test_the_pending_check_in_is_the_earliest_window_not_covered() -> None:
    value = check_ins()
    assert (value.due, value.deadline) == (T0 + 3 * DAY, T0 + 3 * DAY + GRACE)
    value = value.cover(1)
    assert value.pending == 2
    assert (value.due, value.deadline) == (T0 + 6 * DAY, T0 + 6 * DAY + GRACE)


def test_covering_a_later_window_first_leaves_the_earlier_one_pending() -> None:
    value = check_ins().cover(2)  # a visit after window 1 fell due, reported in its grace
    assert (value.pending, value.due) == (1, T0 + 3 * DAY)
    value = value.cover(1)  # the earlier window's miss is alerted: both are covered now
    assert (value.pending, value.covered, value.due) == (3, (), T0 + 9 * DAY)


def test_covering_a_window_again_changes_nothing() -> None:
    once = check_ins().cover(1).cover(3)
    assert once.cover(1) == once
    assert once.cover(3) == once
    assert (once.pending, once.covered) == (2, (3,))


def test_once_every_window_is_covered_nothing_is_due() -> None:
    value = check_ins()
    for window in (1, 2, 3, 4):
        value = value.cover(window)
    assert (value.due, value.deadline) == (None, None)
    assert not value.overdue_at(T0 + 100 * DAY)
    assert value.missed_at(T0 + 100 * DAY) is None


def test_a_check_in_is_overdue_only_after_its_deadline() -> None:
    value = check_ins()
    deadline = T0 + 3 * DAY + GRACE
    assert not value.overdue_at(T0 + 3 * DAY)  # due, but within the grace
    assert not value.overdue_at(deadline)
    assert value.overdue_at(deadline + SECOND)


def test_a_missed_window_is_named_with_its_opening_due_time_and_deadline() -> None:
    value = check_ins().cover(1)
    deadline = T0 + 6 * DAY + GRACE
    assert value.missed_at(deadline) is None
    assert value.missed_at(deadline + SECOND) == MissedWindow(
        window=2, opened_at=T0 + 3 * DAY, due_at=T0 + 6 * DAY, deadline=deadline
    )


def test_when_the_end_is_no_check_in_nothing_is_missed_at_the_end() -> None:
    value = check_ins(at_end=False).cover(1).cover(2).cover(3)
    assert value.missed_at(T0 + 20 * DAY) is None
    assert not value.overdue_at(T0 + 20 * DAY)


# New cadences and ends


def test_tightening_brings_the_pending_window_forward_but_never_later() -> None:
    value = check_ins(7 * DAY, ends_at=T0 + 30 * DAY)
    tighter = tightened(value, DAY, at=T0 + 2 * DAY)
    assert tighter.due_of(1) == T0 + 3 * DAY
    assert tighter.due_of(2) == T0 + 4 * DAY
    late = tightened(value, 6 * DAY, at=T0 + 5 * DAY)
    assert late.due_of(1) == T0 + 7 * DAY  # the old due time was sooner: it stands


def test_tightening_keeps_the_windows_of_the_earlier_cadence() -> None:
    value = check_ins(7 * DAY, ends_at=T0 + 30 * DAY).cover(1)  # window 2 due at day 14
    tighter = tightened(value, DAY, at=T0 + 8 * DAY)
    assert (tighter.pending, tighter.due) == (2, T0 + 9 * DAY)
    assert tighter.opens(2) == T0 + 7 * DAY  # it opened under the earlier cadence
    assert tighter.due_of(3) == T0 + 10 * DAY
    assert tighter.due_of(1) == T0 + 7 * DAY  # past, and still a window of its own cadence
    assert tighter.window_containing(T0 + 5 * DAY) == 1  # a claim in it is matched against it
    assert tighter.counts_for(T0 + 5 * DAY, T0 + 7 * DAY + GRACE) == 1
    assert tighter.counts_for(T0 + 7 * DAY + HOUR, T0 + 8 * DAY) == 2
    assert tighter.window_containing(T0 + 9 * DAY + HOUR) == 3
    assert [s.first for s in tighter.segments] == [1, 2]


def test_tightening_after_the_current_window_was_met_starts_the_next_one_now() -> None:
    value = check_ins(7 * DAY, ends_at=T0 + 30 * DAY).cover(1)  # met early, at day 1
    tighter = tightened(value, DAY, at=T0 + 2 * DAY)
    assert tighter.windows()[:3] == [
        (T0, T0 + 2 * DAY),  # the met window ends when the new cadence starts
        (T0 + 2 * DAY, T0 + 3 * DAY),
        (T0 + 3 * DAY, T0 + 4 * DAY),
    ]
    assert (tighter.pending, tighter.due) == (2, T0 + 3 * DAY)


def test_tightening_an_order_without_check_ins_gives_it_windows_from_now() -> None:
    value = check_ins(None, ends_at=T0 + 30 * DAY)
    tighter = tightened(value, 3 * DAY, at=T0 + 5 * DAY)
    assert (tighter.pending, tighter.due) == (1, T0 + 8 * DAY)
    assert tighter.window_containing(T0 + 4 * DAY) is None  # no window before the raise
    assert tighter.window_containing(T0 + 6 * DAY) == 1


def test_a_cadence_no_tighter_than_the_current_one_is_no_change() -> None:
    value = check_ins()
    assert value.tightened(3 * DAY, at=T0 + DAY) is None
    assert value.tightened(4 * DAY, at=T0 + DAY) is None
    assert value.tightened(None, at=T0 + DAY) is None


def test_a_new_cadence_keeps_the_pending_due_time_and_spaces_later_windows_by_it() -> None:
    value = check_ins(DAY, ends_at=T0 + 30 * DAY).cover(1)  # window 2 due at day 2
    looser = value.recadenced(7 * DAY, at=T0 + 1 * DAY + HOUR)
    assert (looser.pending, looser.due) == (2, T0 + 2 * DAY)
    assert looser.due_of(3) == T0 + 9 * DAY
    assert looser.due_of(1) == T0 + DAY
    assert looser.window_containing(T0 + 5 * DAY) == 3
    assert looser.every == 7 * DAY


def test_a_new_cadence_keeps_a_window_already_met_and_the_pending_one_after_it() -> None:
    value = check_ins(DAY, ends_at=T0 + 30 * DAY).cover(1).cover(2)  # met early, at day 1.5
    looser = value.recadenced(7 * DAY, at=T0 + DAY + 12 * HOUR)
    assert (looser.pending, looser.due) == (3, T0 + 3 * DAY)  # still expected
    assert looser.due_of(4) == T0 + 10 * DAY


def test_no_cadence_leaves_no_window_after_the_pending_one() -> None:
    value = check_ins(DAY, ends_at=T0 + 30 * DAY).cover(1)
    none = value.recadenced(None, at=T0 + DAY + HOUR)
    assert none.windows() == [(T0, T0 + DAY), (T0 + DAY, T0 + 2 * DAY)]
    assert none.every is None
    assert none.cover(2).due is None
    again = tightened(none.cover(2), DAY, at=T0 + 5 * DAY)  # raised again later
    assert (again.pending, again.due) == (3, T0 + 6 * DAY)
    assert again.window_containing(T0 + 3 * DAY) is None  # the days without check-ins


def test_a_new_cadence_keeps_the_window_open_at_its_start_while_an_older_one_is_pending() -> None:
    value = check_ins(DAY, ends_at=T0 + 30 * DAY)  # window 1 due at day 1, not yet alerted
    later = value.recadenced(2 * DAY, at=T0 + 5 * DAY + HOUR)  # in window 6
    assert (later.pending, later.due) == (1, T0 + DAY)  # still pending, still due then
    assert later.due_of(6) == T0 + 6 * DAY  # the window open at the change keeps its time
    assert later.due_of(7) == T0 + 8 * DAY  # no window of the new cadence lies in the past


def test_an_earlier_end_cuts_the_windows_and_a_later_one_adds_them() -> None:
    value = check_ins().cover(1)
    revoked = value.ending_at(T0 + 4 * DAY)
    assert revoked.windows() == [(T0, T0 + 3 * DAY), (T0 + 3 * DAY, T0 + 4 * DAY)]
    assert (revoked.pending, revoked.due) == (2, T0 + 4 * DAY)  # due when the order ended
    extended = value.ending_at(T0 + 13 * DAY)
    assert dues(extended)[-2:] == [T0 + 12 * DAY, T0 + 13 * DAY]
    assert (extended.pending, extended.due) == (2, T0 + 6 * DAY)


def test_an_earlier_end_that_is_no_check_in_drops_the_window_it_cuts() -> None:
    value = check_ins(at_end=False).cover(1)
    revoked = value.ending_at(T0 + 4 * DAY)
    assert revoked.windows() == [(T0, T0 + 3 * DAY)]
    assert (revoked.pending, revoked.due) == (2, None)
