"""Every view stores a time as fixed-width ISO 8601 text in UTC, whatever zone it came in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from projections.database import iso, parse_iso


def test_a_time_is_stored_in_utc_to_the_microsecond_whatever_its_zone() -> None:
    bishkek = timezone(timedelta(hours=6))
    assert iso(datetime(2026, 1, 1, 5, tzinfo=bishkek)) == "2025-12-31T23:00:00.000000+00:00"
    assert iso(datetime(2026, 1, 1, 5, tzinfo=UTC)) == "2026-01-01T05:00:00.000000+00:00"
    read_back = datetime.fromisoformat("2026-01-01T05:00:00.5+00:00")  # as events are decoded
    assert iso(read_back) == "2026-01-01T05:00:00.500000+00:00"
    assert iso(None) is None


def test_stored_times_sort_as_the_times_do() -> None:
    start = datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-3)))
    moments = [start + timedelta(microseconds=n * 7_919_999) for n in range(500)]
    stored = [iso(m) for m in moments]
    assert sorted(stored) == stored
    assert [parse_iso(s) for s in stored] == moments
