"""Inspector activity, for supervisors' audits: every visit, missed check-in and finding.

One row per such event, with the order's district and assigned inspector; no positions,
no notes. The audit query groups the rows by inspector or district over any date range.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from functools import singledispatchmethod
from typing import Any

from orders import events
from projections.database import Row, Transaction, ViewDatabase, iso, text
from projections.follower import View

SECOND = timedelta(seconds=1)


class ActivityView(View):
    """Projects visits, missed check-ins and findings onto rows for the audit."""

    name = "activity"
    accepts = (
        events.Requested,
        events.Issued,
        events.InspectionVisitRecorded,
        events.CheckInMissed,
        events.ReportFlagged,
    )
    tables = (
        "CREATE TABLE IF NOT EXISTS activity_orders (order_id TEXT PRIMARY KEY, "
        "district TEXT NOT NULL, inspector_id TEXT)",
        "CREATE TABLE IF NOT EXISTS activity (position BIGINT PRIMARY KEY, "
        "kind TEXT NOT NULL, order_id TEXT NOT NULL, district TEXT NOT NULL, "
        "inspector_id TEXT NOT NULL, at TEXT NOT NULL, check_in_window INTEGER, "
        "late INTEGER NOT NULL DEFAULT 0, delay_seconds BIGINT)",
        "CREATE INDEX IF NOT EXISTS activity_at ON activity (at)",
    )

    @singledispatchmethod
    def apply(self, event: Any, position: int, tx: Transaction) -> None:
        pass

    @apply.register
    def _(self, event: events.Requested, position: int, tx: Transaction) -> None:
        tx.execute(
            "INSERT INTO activity_orders (order_id, district) VALUES (?, ?)",
            (text(event.originator_id), event.request.district),
        )

    @apply.register
    def _(self, event: events.Issued, position: int, tx: Transaction) -> None:
        tx.execute(
            "UPDATE activity_orders SET inspector_id = ? WHERE order_id = ?",
            (event.terms.inspector_id, text(event.originator_id)),
        )

    @apply.register
    def _(self, event: events.InspectionVisitRecorded, position: int, tx: Transaction) -> None:
        delay = (event.timestamp - event.visit.visited_at) // SECOND
        self._row(
            tx,
            position,
            "visit",
            event,
            event.timestamp,
            window=event.window,
            late=event.late,
            delay=delay,
        )

    @apply.register
    def _(self, event: events.CheckInMissed, position: int, tx: Transaction) -> None:
        self._row(tx, position, "missed", event, event.due_at, window=event.window)

    @apply.register
    def _(self, event: events.ReportFlagged, position: int, tx: Transaction) -> None:
        self._row(tx, position, "flagged", event, event.timestamp)

    @staticmethod
    def _row(
        tx: Transaction,
        position: int,
        kind: str,
        event: Any,
        at: datetime,
        *,
        window: int | None = None,
        late: bool = False,
        delay: int | None = None,
    ) -> None:
        # The order's district and assigned inspector, as this view last recorded them.
        tx.execute(
            "INSERT INTO activity (position, kind, order_id, district, inspector_id, at, "
            "check_in_window, late, delay_seconds) VALUES (?, ?, ?, "
            "(SELECT district FROM activity_orders WHERE order_id = ?), "
            "COALESCE((SELECT inspector_id FROM activity_orders WHERE order_id = ?), ''), "
            "?, ?, ?, ?)",
            (
                position,
                kind,
                event.originator_id,
                event.originator_id,
                event.originator_id,
                iso(at),
                window,
                int(late),
                delay,
            ),
        )


class Audit:
    """The supervisors' audit: per inspector or per district, over a date range."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def report(
        self, *, start: datetime, end: datetime, by: str, districts: tuple[str, ...] | None = None
    ) -> list[Row]:
        """Visits due, on time, late, missed, flagged, median delay, open alerts; per group.

        Visits due: check-in windows met by a report recorded in the range, or whose missed
        check-in fell due in it. On time: windows met by a report (claiming a time inside them,
        recorded by their deadline). Late: reports recorded after the deadline of the window
        they claim; they meet no window. Median delay: between the visit time claimed and the
        time recorded. Open alerts: orders in force with a missed check-in that no report has
        met a later window since.
        """
        assert by in ("inspector_id", "district")
        rows = self.db.query(
            "SELECT * FROM activity WHERE at >= ? AND at < ?", (iso(start), iso(end))
        )
        if districts is not None:
            rows = [r for r in rows if r["district"] in districts]
        groups: dict[str, list[Row]] = {}
        for row in rows:
            groups.setdefault(row[by], []).append(row)
        open_alerts = self._open_alerts(by)
        return [
            _summary(key, group, open_alerts.get(key, 0)) for key, group in sorted(groups.items())
        ]

    def _open_alerts(self, by: str) -> dict[str, int]:
        rows = self.db.query(
            f"SELECT {by} AS k, COUNT(*) AS n FROM order_state "
            "WHERE COALESCE(last_missed_window, 0) > COALESCE(last_met_window, 0) "
            "AND status = 'issued' GROUP BY " + by
        )
        return {str(r["k"]): int(r["n"]) for r in rows}


def _summary(key: str, rows: list[Row], open_alerts: int) -> Row:
    visits = [r for r in rows if r["kind"] == "visit"]
    missed = [r for r in rows if r["kind"] == "missed"]
    met = {(r["order_id"], r["check_in_window"]) for r in visits if r["check_in_window"]}
    windows = met | {(r["order_id"], r["check_in_window"]) for r in missed}
    delays = [int(r["delay_seconds"]) for r in visits]
    return {
        "group": key,
        "visits_due": len(windows),
        "made_on_time": len(met),
        "made_late": sum(int(r["late"]) for r in visits),
        "missed": len(missed),
        "flagged": sum(r["kind"] == "flagged" for r in rows),
        "median_delay_hours": round(statistics.median(delays) / 3600, 2) if delays else None,
        "open_alerts": open_alerts,
    }
