"""The database's clock is read once every few seconds and carried forward in between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orders.clock import CarriedClock, SimulatedClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_source_is_read_once_per_interval_and_carried_forward_between() -> None:
    source = SimulatedClock(T0)
    reads: list[datetime] = []

    def counted() -> datetime:
        reads.append(source())
        return reads[-1]

    clock = CarriedClock(counted, every=timedelta(hours=1))
    first = clock()
    source.advance(timedelta(days=1))  # not seen until the next reading
    second = clock()
    assert len(reads) == 1
    assert T0 <= first <= second < T0 + timedelta(seconds=5)


def test_each_reading_is_taken_when_due_and_time_never_runs_back() -> None:
    source = SimulatedClock(T0)
    clock = CarriedClock(source, every=timedelta(0))  # read every time
    assert clock() >= T0
    source.advance(timedelta(hours=2))
    later = clock()
    assert later >= T0 + timedelta(hours=2)
    source.set(T0)  # the source stepped back: the clock stands still rather than go back
    assert clock() == later
