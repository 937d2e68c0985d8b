"""Runs the falsification detectors over new visit reports and records findings on the orders.

It follows the log like a read model, with its own position. A finding is recorded on the
order (ReportFlagged) before the position moves on; if the process dies in between, the next
run looks again and the order refuses a second finding of the same rule on the same report,
so each finding is recorded exactly once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from orders import detectors, errors
from orders.application import Orders
from orders.domain import ProtectionOrder
from orders.values import SYSTEM_ACTOR
from projections.database import iso
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)

NAME = "detectors"
# The same inspector's reports recorded before this one (so a finding never depends on when
# the detectors ran), claimed or recorded near it.
NEIGHBOURS = (
    "SELECT order_id, version FROM timeline WHERE actor_id = ? AND "
    "event_type = 'InspectionVisitRecorded' AND position < ? AND "
    "((claimed_at BETWEEN ? AND ?) OR (recorded_at BETWEEN ? AND ?))"
)


class Detection:
    """Examines each new visit report once; returns how many findings a run recorded."""

    def __init__(self, orders: Orders, views: ProjectionRunner, *, batch_size: int = 200):
        self.orders, self.views, self.batch_size = orders, views, batch_size
        with views.db.transaction() as tx:
            tx.execute(
                "INSERT INTO projection_tracking (view, position) VALUES (?, 0) "
                "ON CONFLICT (view) DO NOTHING",
                (NAME,),
            )

    def run(self) -> int:
        """Examine every visit report recorded since the last run."""
        found = 0
        while True:
            self.views.catch_up()  # the timeline must include the reports examined
            start = int(
                self.views.db.query(
                    "SELECT position FROM projection_tracking WHERE view = ?", (NAME,)
                )[0]["position"]
            )
            notifications = self.orders.recorder.select_notifications(
                start=start, limit=self.batch_size, inclusive_of_start=False
            )
            if not notifications:
                return found
            for notification in notifications:
                event = self.orders.mapper.to_domain_event(notification)
                if isinstance(event, ProtectionOrder.InspectionVisitRecorded):
                    found += self._examine(event, notification.id)
            with self.views.db.transaction() as tx:
                tx.execute(
                    "UPDATE projection_tracking SET position = ? WHERE view = ? AND position = ?",
                    (notifications[-1].id, NAME, start),
                )

    def _examine(self, event: ProtectionOrder.InspectionVisitRecorded, position: int) -> int:
        report = _report(event)
        try:
            order: ProtectionOrder = self.orders.repository.get(
                report.order_id, version=report.version
            )
            context = detectors.Context(
                order, self._others(report, position), self.orders.policy.detectors
            )
            return sum(
                self._flag(report, rule, evidence)
                for rule, evidence in detectors.examine(report, context)
            )
        except Exception:
            log.exception(
                "detectors failed on order %s event %s; moving on", report.order_id, report.version
            )
            return 0

    def _others(self, report: Report, position: int) -> list[Report]:
        span = max(timedelta(hours=12), self.orders.policy.detectors.batch_window)
        claimed, recorded = report.visit.visited_at, report.recorded_at
        rows = self.views.db.query(
            NEIGHBOURS,
            (
                report.inspector_id,
                position,
                iso(claimed - span),
                iso(claimed + span),
                iso(recorded - span),
                iso(recorded + span),
            ),
        )
        return [_report(self._visit_event(UUID(r["order_id"]), int(r["version"]))) for r in rows]

    def _visit_event(self, order_id: UUID, version: int) -> ProtectionOrder.InspectionVisitRecorded:
        (event,) = self.orders.repository.event_store.get(order_id, gt=version - 1, lte=version)
        assert isinstance(event, ProtectionOrder.InspectionVisitRecorded)
        return event

    def _flag(self, report: Report, rule: str, evidence: str) -> int:
        flagged: list[bool] = []
        for _ in range(3):
            try:
                self.orders.change(
                    report.order_id,
                    lambda o, at: flagged.append(
                        o.flag_report(
                            rule=rule,
                            evidence=evidence,
                            flagged_version=report.version,
                            by=SYSTEM_ACTOR,
                            at=at,
                        )
                    ),
                )
                return int(flagged[-1])
            except errors.ConcurrentChange:
                continue
        raise errors.ConcurrentChange(f"could not flag order {report.order_id}")


Report = detectors.Report


def _report(event: ProtectionOrder.InspectionVisitRecorded) -> Report:
    return Report(
        event.originator_id, event.originator_version, event.actor.id, event.visit, event.timestamp
    )
