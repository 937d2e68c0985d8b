"""The falsification detectors, as a projection of the log: each new visit report examined once.

A finding is recorded on the order (ReportFlagged) before the follower moves the detectors'
position on; if the process dies in between, the next run looks again and the order refuses a
second finding of the same rule on the same report, so each finding is recorded once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from orders import detectors, events
from orders.application import Orders
from orders.commands import FlagReport
from orders.domain import ProtectionOrder
from orders.values import SYSTEM_ACTOR
from projections.follower import Follower, Projection, Tracking
from projections.timeline import Timelines

log = logging.getLogger(__name__)

TIMELINE_WAIT_SECONDS = 10.0


class TimelineBehind(Exception):
    """The timeline has not yet reached a report being examined; try again later."""


class Detectors(Projection):
    """Examines each new visit report against the detectors' rules and flags what they find."""

    name = "detectors"
    accepts = (events.InspectionVisitRecorded,)
    in_transaction = False

    def __init__(self, orders: Orders, views: Follower) -> None:
        self.orders, self.views, self.timelines = orders, views, Timelines(views.db)
        self.found = 0

    def process_event(self, event: Any, tracking: Tracking) -> None:
        if not self.views.wait(
            tracking.position, projection="timeline", timeout=TIMELINE_WAIT_SECONDS
        ):
            raise TimelineBehind(f"the timeline has not reached position {tracking.position}")
        report = _report(event)
        try:
            order: ProtectionOrder = self.orders.repository.get(
                report.order_id, version=report.version
            )
            context = detectors.Context(
                order, self._others(report, tracking.position), self.orders.policy.detectors
            )
            for rule, evidence in detectors.examine(report, context):
                flag = FlagReport(rule=rule, evidence=evidence, flagged_version=report.version)
                outcome = self.orders.handle(flag, report.order_id, by=SYSTEM_ACTOR)
                self.found += int(bool(outcome.returned))
        except Exception:
            log.exception(
                "detectors failed on order %s event %s; moving on", report.order_id, report.version
            )

    def _others(self, report: detectors.Report, position: int) -> list[detectors.Report]:
        """The same inspector's reports recorded before this one (so a finding never depends
        on when the detectors ran), claimed or recorded near it."""
        span = max(timedelta(hours=12), self.orders.policy.detectors.batch_window)
        claimed, recorded = report.visit.visited_at, report.recorded_at
        near = self.timelines.reports_near(
            report.inspector_id,
            before=position,
            claimed=(claimed - span, claimed + span),
            recorded=(recorded - span, recorded + span),
        )
        return [_report(self._visit_event(order_id, version)) for order_id, version in near]

    def _visit_event(self, order_id: UUID, version: int) -> events.InspectionVisitRecorded:
        (event,) = self.orders.repository.event_store.get(order_id, gt=version - 1, lte=version)
        assert isinstance(event, events.InspectionVisitRecorded)
        return event


class Detection:
    """Runs the detectors over every visit report recorded since they last ran."""

    def __init__(self, orders: Orders, views: Follower, *, batch_size: int = 200) -> None:
        self.detectors = Detectors(orders, views)
        self.follower = Follower(orders, [self.detectors], batch_size=batch_size)

    def run(self) -> int:
        """Examine every new visit report; returns how many findings were recorded."""
        before = self.detectors.found
        self.follower.catch_up()
        return self.detectors.found - before


def _report(event: events.InspectionVisitRecorded) -> detectors.Report:
    return detectors.Report(
        event.originator_id, event.originator_version, event.actor.id, event.visit, event.timestamp
    )
