"""One policy for write conflicts: decide again on the fresh order, unless a version was pinned."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import PrivateAttr

from orders import errors
from orders.commands import Context, RecordService, RecordVisit
from orders.domain import ProtectionOrder
from orders.values import ServiceMethod
from service.bootstrap import Service
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order


class RaceAgainst:
    """Gives the first decision's order a rival write from another process, as a race would."""

    def __init__(self, other: Service, order_id: Any) -> None:
        self.other, self.order_id, self.decisions = other, order_id, 0

    def __call__(self) -> None:
        self.decisions += 1
        if self.decisions == 1:
            at, method = self.other.orders.now(), ServiceMethod.IN_PERSON
            self.other.orders.handle(
                RecordService(served_at=at, method=method), self.order_id, by=INSPECTOR
            )


class VisitInARace(RecordVisit):
    """A visit whose first decision meets another writer's save."""

    _race: RaceAgainst = PrivateAttr()

    def decide(self, order: ProtectionOrder, c: Context) -> None:
        self._race()
        super().decide(order, c)


def a_visit_in_a_race(mine: Service, race: RaceAgainst) -> VisitInARace:
    visit = VisitInARace(**a_visit_command(mine.orders.now()).model_dump())
    visit._race = race
    return visit


def test_a_write_that_meets_another_is_decided_again_on_the_fresh_order(
    make_service: ServiceFactory,
) -> None:
    mine, theirs = make_service(), make_service()  # two processes on one database
    order_id = issued_order(mine.orders)
    race = RaceAgainst(theirs, order_id)
    visit = a_visit_in_a_race(mine, race)
    outcome = mine.orders.handle(visit, order_id, by=INSPECTOR)
    assert race.decisions == 2  # refused once by the store, decided again, stored
    names = [type(e).__name__ for e in mine.orders.repository.event_store.get(order_id)]
    assert names[-2:] == ["Served", "InspectionVisitRecorded"]  # both writes stand
    assert outcome.order.version == 5 and outcome.order.served_at is not None


def test_a_pinned_version_that_meets_another_write_is_refused_and_stores_nothing(
    make_service: ServiceFactory,
) -> None:
    mine, theirs = make_service(), make_service()
    order_id = issued_order(mine.orders)
    race = RaceAgainst(theirs, order_id)
    visit = a_visit_in_a_race(mine, race)
    with pytest.raises(errors.VersionMismatch):
        mine.orders.handle(visit, order_id, by=INSPECTOR, expected_version=3)
    assert race.decisions == 1
    names = [type(e).__name__ for e in mine.orders.repository.event_store.get(order_id)]
    assert names[-1] == "Served"  # the rival's write stands; ours stored nothing
