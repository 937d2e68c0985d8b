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
from orders.evidence import Context, Found, Report
from orders.values import SYSTEM_ACTOR
from projections.database import Transaction
from projections.follower import Follower, Projection, Tracking
from projections.projection import Batch
from projections.timeline import Timelines
from storage.order import Place

log = logging.getLogger(__name__)

TIMELINE_WAIT_SECONDS = 10.0
SPAN = timedelta(hours=12)  # reports claimed or recorded this near the examined one are compared
KEPT_REPORTS = 20_000  # judged reports kept in memory (a few hundred bytes each)


class TimelineBehind(Exception):
    """The timeline has not yet reached a report being examined; try again later."""


class Detectors(Projection):
    """Examines each new visit report against the detectors' rules and flags what they find:
    the report, and the earlier reports of a pattern it completes (on their own orders)."""

    name = "detectors"
    accepts = (events.InspectionVisitRecorded,)
    in_transaction = False

    def __init__(self, orders: Orders, views: Follower) -> None:
        self.orders, self.views, self.timelines = orders, views, Timelines(views.db)
        self.rules = orders.policy.detectors
        self.found = 0
        self.read = 0  # earlier reports read from the store to compare with (not kept yet)
        self._judged: dict[tuple[UUID, int], Report] = {}

    def process_event(self, event: Any, tracking: Tracking) -> None:
        self._wait_for_timeline(tracking.place, tracking.position)
        self._flag(self._found(event, tracking))

    def process_batch(self, batch: Batch, after: Place, tx: Transaction | None, log: str) -> None:
        """Each new report of the batch examined, once the timeline has reached the last; the
        findings then recorded together (orders.together): a few appends, not one each."""
        reports = [(p, n, e) for p, n, e in batch if p > after and isinstance(e, self.accepts)]
        if not reports:
            return
        self._wait_for_timeline(reports[-1][0], reports[-1][1].id)
        found: list[tuple[str, Found]] = []
        for place, notification, event in reports:
            found += self._found(event, Tracking(log, notification.id, tx, place))
        self._flag(found)

    def _wait_for_timeline(self, place: Place, position: int) -> None:
        if not self.views.wait_for(place, projection="timeline", timeout=TIMELINE_WAIT_SECONDS):
            raise TimelineBehind(f"the timeline has not reached position {position}")

    def _found(self, event: Any, tracking: Tracking) -> list[tuple[str, Found]]:
        """What the rules find about the report `event` records (nothing if it cannot be
        examined: logged, and the others go on)."""
        order_id, version = event.originator_id, event.originator_version
        try:
            order: ProtectionOrder = self.orders.repository.get(order_id, version=version)
            report = self._judge(event, order)
            context = Context(order, self._others(report, tracking.position), self.rules)
            return list(detectors.examine(report, context))
        except Exception:
            log.exception("detectors failed on order %s event %s; moving on", order_id, version)
            return []

    def _flag(self, found: list[tuple[str, Found]]) -> None:
        """Record each finding on the flagged report's own order (maybe an earlier report of
        a pattern); one that cannot be recorded is logged and holds back none of the others."""
        flags = [
            (
                FlagReport(
                    rule=rule,
                    strength=finding.strength,
                    evidence=finding.evidence,
                    flagged_version=finding.report.version,
                ),
                finding.report.order_id,
            )
            for rule, finding in found
        ]
        outcomes = self.orders.handle_pairs(flags, by=SYSTEM_ACTOR)
        for (flag, order_id), outcome in zip(flags, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.error(
                    "could not flag order %s event %s by %s; moving on",
                    order_id,
                    flag.flagged_version,
                    flag.rule,
                    exc_info=outcome,
                )
            else:
                self.found += int(bool(outcome.returned))

    def _others(self, report: Report, position: int) -> list[Report]:
        """The same inspector's reports logged before this one (so a finding never depends
        on when the detectors ran): claimed near it, or recorded in the span the rules over
        several reports look back over."""
        span = max(SPAN, self.rules.batch_window)
        claimed, recorded = report.claimed_at, report.recorded_at
        near = self.timelines.reports_near(
            report.inspector_id,
            before=position,
            claimed=(claimed - span, claimed + span),
            recorded=(recorded - max(span, self.rules.look_back), recorded + span),
        )
        return [self._earlier(order_id, version) for order_id, version in near]

    def _earlier(self, order_id: UUID, version: int) -> Report:
        if (order_id, version) in self._judged:
            return self._judged[order_id, version]
        self.read += 1
        (event,) = self.orders.repository.event_store.get(order_id, gt=version - 1, lte=version)
        assert isinstance(event, events.InspectionVisitRecorded)
        return self._judge(event, self.orders.repository.get(order_id, version=version))

    def _judge(self, event: events.InspectionVisitRecorded, order: ProtectionOrder) -> Report:
        """The report the event records, its presence judged against its order as it stood
        then; kept, as it cannot change."""
        if len(self._judged) >= KEPT_REPORTS:
            self._judged.clear()
        presence = detectors.presence(event.visit, order, self.rules)
        key = (event.originator_id, event.originator_version)
        self._judged[key] = Report(*key, event.actor.id, event.visit, event.timestamp, presence)
        return self._judged[key]


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
