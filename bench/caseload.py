"""A caseload for the HTTP load: issued orders of high threat, each with its visits so far.

Weeks of work replayed in time order on a simulated clock, with the scheduler's sweep every
six simulated hours and the detectors at the end, as `protection-orders demo` does, but with
what a load of visit reports needs: many inspectors (a caseload of about eight orders each,
so that a few hundred reports a second are not one inspector's burst), every order issued
and in force, most with a code on her phone, some inspectors late (their orders overdue).
"""

from __future__ import annotations

import functools
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

import pyotp

from orders.clock import SimulatedClock
from orders.commands import (
    AssessRisk,
    EnrolPresenceProof,
    IssueOrder,
    NewProof,
    RecordVisit,
    RequestOrder,
)
from orders.inputs import LocationIn, PositionIn, ProtectedPersonIn, RespondentIn
from orders.presence import ProofKind
from orders.values import (
    Actor,
    Channel,
    Condition,
    FirearmsAccess,
    LocationKind,
    OrderKind,
    Relationship,
    Role,
    Sex,
    ViolenceType,
    VisitOutcome,
)
from scheduler.detection import Detection
from scheduler.sweep import sweep
from service.bootstrap import Service

DISTRICTS = ("Lenin", "Oktyabr", "Sverdlov", "Pervomay", "Alamedin")
CASELOAD = 8  # orders per inspector
SPAN = timedelta(days=42)
HIGH = {"threats_to_kill": True, "strangulation": True}
EXTREME = HIGH | {"firearm_or_weapon": True}

Step = Callable[[], object]


@dataclass(frozen=True)
class Case:
    """An order of the caseload: where it is, who is assigned, the secret of her codes."""

    order_id: UUID
    district: str
    inspector_id: str
    secret: str | None
    home: tuple[float, float]  # her home's position (latitude, longitude)
    valid_from: datetime  # no visit may be claimed before it

    def at_home(self, rng: random.Random) -> dict[str, float]:
        """A position fix at her door, as an inspector's phone gives it (within 20 m)."""
        latitude, longitude = self.home
        jitter = 0.0002
        return {
            "latitude": latitude + rng.uniform(-jitter, jitter),
            "longitude": longitude + rng.uniform(-jitter, jitter),
        }


class Caseload:
    """Fills a service with `count` issued orders, opened over the last six weeks."""

    def __init__(self, service: Service, clock: SimulatedClock, *, count: int, seed: int) -> None:
        self.service, self.orders, self.clock = service, service.orders, clock
        self.random = random.Random(seed)
        self.count = count
        self.queue: list[tuple[datetime, int, Step]] = []
        self.tick = 0
        self.cases: list[Case] = []
        self.end = clock()

    def at(self, moment: datetime, step: Step) -> None:
        self.tick += 1
        heapq.heappush(self.queue, (moment, self.tick, step))

    def run(self, end: datetime) -> list[Case]:
        start, self.end = end - SPAN, end
        for i in range(self.count):
            self.at(start + (end - start) * (i / self.count), functools.partial(self._open, i))
        moment = start
        while moment < end:
            self.at(moment, self._sweep)
            moment += timedelta(hours=6)
        while self.queue and self.queue[0][0] <= end:
            moment, _, step = heapq.heappop(self.queue)
            self.clock.set(moment)
            step()
        self.clock.set(end)
        self._sweep()
        Detection(self.orders, self.service.views).run()
        self.service.views.catch_up()
        return self.cases

    def _sweep(self) -> None:
        self.service.views.catch_up()
        sweep(self.orders, self.service.views, self.service.deadlines)

    def _open(self, i: int) -> None:
        r = self.random
        district = DISTRICTS[i % len(DISTRICTS)]
        number = i // (CASELOAD * len(DISTRICTS))
        inspector = Actor(f"insp-{district.lower()}-{number}", Role.INSPECTOR)
        diligence = 0.6 if number % 5 == 1 else 0.95  # one in four falls behind...
        social_worker = Actor(f"sw-{district.lower()}", Role.SOCIAL_WORKER)
        home = (42.80 + r.uniform(0, 0.1), 74.50 + r.uniform(0, 0.15))  # around Bishkek
        at_home = LocationIn(
            kind=LocationKind.HOME,
            address="(caseload address)",
            position=PositionIn(latitude=home[0], longitude=home[1]),
        )
        request = RequestOrder(
            channel=r.choice(list(Channel)),
            district=district,
            petitioner_name="Aizada",
            protected_persons=[
                ProtectedPersonIn(
                    person_id="p1",
                    name="Aizada",
                    sex=Sex.FEMALE,
                    birth_date=date(1990, 5, 1),
                    locations=[at_home],
                ),
                ProtectedPersonIn(
                    person_id="c1", name="Emir", sex=Sex.MALE, birth_date=date(2018, 3, 9)
                ),
            ],
            respondent=RespondentIn(name="Ruslan", relationship=Relationship.SPOUSE),
            violence_types=[ViolenceType.PHYSICAL, ViolenceType.PSYCHOLOGICAL],
            incident_at=self.clock() - timedelta(hours=r.randint(1, 48)),
            incident_narrative="(caseload narrative)",
            shared_residence=r.random() < 0.6,
            firearms_access=r.choice(list(FirearmsAccess)),
        )
        order_id = self.orders.handle(request, by=social_worker).order.id
        later = self.clock() + timedelta(minutes=r.randint(20, 90))
        people = (inspector, social_worker)
        self.at(later, lambda: self._issue(order_id, district, home, people, diligence))

    def _issue(
        self,
        order_id: UUID,
        district: str,
        home: tuple[float, float],
        people: tuple[Actor, Actor],
        diligence: float,
    ) -> None:
        r, (inspector, social_worker) = self.random, people
        answers = EXTREME if r.random() < 0.2 else HIGH
        self.orders.handle(AssessRisk(answers=answers), order_id, by=inspector)
        issue = IssueOrder(
            kind=OrderKind.COURT,
            conditions=[Condition.NO_CONTACT, Condition.STAY_AWAY_FROM_RESIDENCE],
            protected_person_ids=["p1", "c1"],
            inspector_id=inspector.id,
            valid_from=self.clock(),
        )
        order = self.orders.handle(issue, order_id, by=inspector).order
        secret = None
        if r.random() < 0.8:  # she consents to prove visits with an app on her phone
            enrol = EnrolPresenceProof(person_id="p1", kind=ProofKind.APP)
            returned = self.orders.handle(enrol, order_id, by=social_worker).returned
            secret = returned.secret if isinstance(returned, NewProof) else None
        case = Case(order_id, district, inspector.id, secret, home, issue.valid_from)
        self.cases.append(case)
        stopped = self.end - timedelta(days=10)  # ...and has made no visit for ten days
        for opens, due in order.check_ins.windows() if order.check_ins else []:
            if r.random() < diligence and (diligence > 0.9 or due < stopped):
                moment = opens + (due - opens) * r.uniform(0.2, 0.95)
                self.at(moment, lambda: self._visit(case, inspector))

    def _visit(self, case: Case, inspector: Actor) -> None:
        claimed = self.clock() - timedelta(minutes=self.random.randint(5, 120))
        visit = RecordVisit(
            visited_at=claimed,
            met_with=["p1"],
            outcome=VisitOutcome.PERSON_SAFE,
            position=PositionIn(**case.at_home(self.random)),
            proof_code=None if case.secret is None else pyotp.TOTP(case.secret).at(claimed),
        )
        self.orders.handle(visit, case.order_id, by=inspector)
