"""Check-in windows: when each falls due, and which window a report counts for."""

from datetime import UTC, datetime, timedelta

from orders.schedule import CheckInSchedule

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def a_schedule(**changes: object) -> CheckInSchedule:
    fields: dict[str, object] = {
        "anchor": T0,
        "every": 3 * DAY,
        "grace": timedelta(hours=2),
        "base": 0,
        "ends_at": T0 + 10 * DAY,
    }
    return CheckInSchedule(**(fields | changes))  # type: ignore[arg-type]


def test_windows_fall_due_every_cadence_and_the_last_at_the_end_of_the_order() -> None:
    schedule = a_schedule()
    assert [schedule.due(n) for n in (1, 2, 3, 4, 5)] == [
        T0 + 3 * DAY,
        T0 + 6 * DAY,
        T0 + 9 * DAY,
        T0 + 10 * DAY,
        None,
    ]


def test_a_report_counts_for_the_window_open_when_it_is_recorded_including_grace() -> None:
    schedule = a_schedule()
    assert schedule.window_for(T0 + timedelta(minutes=1)) == 1
    assert schedule.window_for(T0 + 3 * DAY + timedelta(hours=2)) == 1  # inside the grace
    assert schedule.window_for(T0 + 3 * DAY + timedelta(hours=2, seconds=1)) == 2


def test_tightening_brings_the_pending_window_forward_but_never_later() -> None:
    schedule = a_schedule(every=7 * DAY, ends_at=T0 + 30 * DAY)
    tighter = schedule.tightened(every=DAY, pending=1, at=T0 + 2 * DAY)
    assert tighter.due(1) == T0 + 3 * DAY
    assert tighter.due(2) == T0 + 4 * DAY
    late = schedule.tightened(every=6 * DAY, pending=1, at=T0 + 5 * DAY)
    assert late.due(1) == T0 + 7 * DAY  # the old due time was sooner: it stands


def test_windows_lists_every_window_with_its_opening_and_due_time() -> None:
    assert a_schedule(ends_at=T0 + 5 * DAY).windows() == [
        (T0, T0 + 3 * DAY),
        (T0 + 3 * DAY, T0 + 5 * DAY),
    ]
