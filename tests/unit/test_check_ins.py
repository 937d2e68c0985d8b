"""The check-in value: when windows fall due, which one a report counts for, what is pending."""

from datetime import UTC, datetime, timedelta

from orders.checkins import CheckIns, MissedWindow

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY, HOUR, SECOND = timedelta(days=1), timedelta(hours=1), timedelta(seconds=1)
GRACE = 2 * HOUR


def check_ins(**changes: object) -> CheckIns:
    """Every three days from T0, two hours' grace, for ten days: windows due at 3, 6, 9, 10."""
    fields: dict[str, object] = {
        "anchor": T0,
        "every": 3 * DAY,
        "grace": GRACE,
        "base": 0,
        "ends_at": T0 + 10 * DAY,
    }
    return CheckIns(**(fields | changes))  # type: ignore[arg-type]


def tightened(value: CheckIns, every: timedelta, *, at: datetime) -> CheckIns:
    tighter = value.tightened(every, at=at)
    assert tighter is not None
    return tighter


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


def test_a_newly_issued_orders_first_window_falls_due_one_cadence_after_issue() -> None:
    value = CheckIns.starting(T0, every=3 * DAY, grace=GRACE, ends_at=T0 + 10 * DAY)
    assert value == check_ins()
    assert (value.pending, value.due) == (1, T0 + 3 * DAY)


def test_a_windows_deadline_is_its_due_time_plus_grace() -> None:
    value = check_ins()
    assert value.deadline_of(1) == T0 + 3 * DAY + GRACE
    assert value.deadline_of(4) == T0 + 10 * DAY + GRACE
    assert value.deadline_of(5) is None


def test_a_report_counts_for_the_window_open_when_it_is_recorded_including_grace() -> None:
    value = check_ins()
    assert value.window_for(T0 + timedelta(minutes=1)) == 1
    assert value.window_for(T0 + 3 * DAY + timedelta(hours=2)) == 1  # inside the grace
    assert value.window_for(T0 + 3 * DAY + timedelta(hours=2, seconds=1)) == 2


def test_the_window_containing_a_claimed_time_ignores_grace() -> None:
    value = check_ins()
    assert value.window_containing(T0 - DAY) == 1  # before the order: the first window
    assert value.window_containing(T0 + 3 * DAY) == 1  # the due time closes its window
    assert value.window_containing(T0 + 3 * DAY + SECOND) == 2


def test_windows_lists_every_window_with_its_opening_and_due_time() -> None:
    assert check_ins(ends_at=T0 + 5 * DAY).windows() == [
        (T0, T0 + 3 * DAY),
        (T0 + 3 * DAY, T0 + 5 * DAY),
    ]


# The pending check-in


def test_the_pending_check_in_is_the_earliest_window_not_covered() -> None:
    value = check_ins()
    assert (value.due, value.deadline) == (T0 + 3 * DAY, T0 + 3 * DAY + GRACE)
    value = value.cover(1)
    assert value.pending == 2
    assert (value.due, value.deadline) == (T0 + 6 * DAY, T0 + 6 * DAY + GRACE)


def test_covering_a_later_window_first_leaves_the_earlier_one_pending() -> None:
    value = check_ins().cover(2)  # a late report counts for the window then open
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


# New cadences and ends


def test_tightening_brings_the_pending_window_forward_but_never_later() -> None:
    value = check_ins(every=7 * DAY, ends_at=T0 + 30 * DAY)
    tighter = tightened(value, DAY, at=T0 + 2 * DAY)
    assert tighter.due_of(1) == T0 + 3 * DAY
    assert tighter.due_of(2) == T0 + 4 * DAY
    late = tightened(value, 6 * DAY, at=T0 + 5 * DAY)
    assert late.due_of(1) == T0 + 7 * DAY  # the old due time was sooner: it stands


def test_tightening_starts_from_the_pending_window_and_keeps_it_pending() -> None:
    value = check_ins(every=7 * DAY, ends_at=T0 + 30 * DAY).cover(1)  # window 2 due at day 14
    tighter = tightened(value, DAY, at=T0 + 8 * DAY)
    assert (tighter.pending, tighter.due) == (2, T0 + 9 * DAY)
    assert tighter.due_of(3) == T0 + 10 * DAY
    assert tighter.due_of(1) is None  # already past: not a window of the new cadence


def test_a_cadence_no_tighter_than_the_current_one_is_no_change() -> None:
    value = check_ins()
    assert value.tightened(3 * DAY, at=T0 + DAY) is None
    assert value.tightened(4 * DAY, at=T0 + DAY) is None


def test_an_earlier_end_cuts_the_windows_and_a_later_one_adds_them() -> None:
    value = check_ins().cover(1)
    revoked = value.ending_at(T0 + 4 * DAY)
    assert revoked.windows() == [(T0, T0 + 3 * DAY), (T0 + 3 * DAY, T0 + 4 * DAY)]
    assert (revoked.pending, revoked.due) == (2, T0 + 4 * DAY)  # due when the order ended
    extended = value.ending_at(T0 + 13 * DAY)
    assert [due for _, due in extended.windows()][-2:] == [T0 + 12 * DAY, T0 + 13 * DAY]
    assert (extended.pending, extended.due) == (2, T0 + 6 * DAY)
