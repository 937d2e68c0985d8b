"""A realistic data set: districts, inspectors, and orders in every state, some overdue.

Sixty days of work are replayed on a simulated clock, in time order, with the scheduler's
sweep running every six simulated hours, so alerts carry the times they would have had.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from uuid import UUID

import pyotp

from orders.clock import SimulatedClock
from orders.commands import (
    AcknowledgeEscalation,
    AssessRisk,
    Command,
    EnrolPresenceProof,
    Escalate,
    ExtendOrder,
    IssueOrder,
    NewProof,
    RecordService,
    RecordVisit,
    ReportBreach,
    RequestOrder,
    RespondToBreach,
    RevokeOrder,
)
from orders.inputs import ProtectedPersonIn, RespondentIn
from orders.presence import ProofKind
from orders.values import (
    Actor,
    BreachResponseKind,
    Channel,
    Condition,
    EscalationTarget,
    FirearmsAccess,
    OrderKind,
    Relationship,
    Role,
    ServiceMethod,
    Sex,
    ViolenceType,
    VisitOutcome,
)
from scheduler.detection import Detection
from scheduler.sweep import sweep
from service.bootstrap import Service

DISTRICTS = ("Lenin", "Oktyabr", "Sverdlov", "Pervomay", "Alamedin")
NAMES = ("Aizada", "Gulnara", "Nurgul", "Cholpon", "Asel", "Zarina", "Dinara", "Aigerim")
CHILDREN = ("Emir", "Aruuke", "Bektur", "Aiym")
RESPONDENTS = ("Ruslan", "Talant", "Azamat", "Erlan", "Marat")
SPAN = timedelta(days=60)

Step = Callable[[], object]


class Demo:
    """Fills a service with `count` orders over the last sixty days."""

    def __init__(self, service: Service, clock: SimulatedClock, *, count: int, seed: int) -> None:
        self.service, self.orders, self.clock = service, service.orders, clock
        self.random = random.Random(seed)
        self.count = count
        self.queue: list[tuple[datetime, int, Step]] = []
        self.tick = 0
        self.secrets: dict[UUID, str] = {}  # the codes on her phone, by order

    def at(self, moment: datetime, step: Step) -> None:
        self.tick += 1
        heapq.heappush(self.queue, (moment, self.tick, step))

    def run(self, end: datetime, progress: Callable[[int, int], None]) -> None:
        start = end - SPAN
        for i in range(self.count):
            self.at(start + SPAN * (i / self.count), self._open_order)
        moment = start
        while moment < end:
            self.at(moment, self._sweep)
            moment += timedelta(hours=6)
        done = 0
        while self.queue:
            moment, _, step = heapq.heappop(self.queue)
            if moment > end:
                break
            self.clock.set(moment)
            step()
            done += 1
            if done % 200 == 0:
                progress(done, done + len(self.queue))
        self.clock.set(end)
        self._sweep()
        Detection(self.orders, self.service.views).run()
        self.service.views.catch_up()  # the findings too: the demo ends with its views current

    def _sweep(self) -> None:
        """The scheduler's sweep; the demo plays the follower too, so it catches up first."""
        self.service.views.catch_up()
        sweep(self.orders, self.service.views, self.service.deadlines)

    def _open_order(self) -> None:
        r, now = self.random, self.clock()
        district = r.choice(DISTRICTS)
        social_worker = Actor(f"sw-{district.lower()}", Role.SOCIAL_WORKER)
        inspector = Actor(f"insp-{district.lower()}-{r.randint(1, 3)}", Role.INSPECTOR)
        children = [
            ProtectedPersonIn(
                person_id=f"c{k}",
                name=r.choice(CHILDREN),
                sex=r.choice(list(Sex)),
                birth_date=date(2012 + r.randint(0, 12), r.randint(1, 12), r.randint(1, 28)),
            )
            for k in range(r.choice((0, 0, 1, 2)))
        ]
        request = RequestOrder(
            channel=r.choice(list(Channel)),
            district=district,
            petitioner_name=r.choice(NAMES),
            protected_persons=[
                ProtectedPersonIn(
                    person_id="p1",
                    name=r.choice(NAMES),
                    sex=Sex.FEMALE,
                    birth_date=date(r.randint(1970, 2004), 5, 1),
                ),
                *children,
            ],
            respondent=RespondentIn(
                name=r.choice(RESPONDENTS), relationship=r.choice(list(Relationship)[:4])
            ),
            violence_types=r.sample(list(ViolenceType), r.randint(1, 3)),
            incident_at=now - timedelta(hours=r.randint(1, 48)),
            incident_narrative="(demo narrative)",
            shared_residence=r.random() < 0.6,
            firearms_access=r.choice(list(FirearmsAccess)),
        )
        order = self.orders.handle(request, by=social_worker).order
        self.at(
            now + timedelta(minutes=r.randint(10, 90)),
            lambda: self._assess_and_issue(order.id, inspector),
        )

    def _assess_and_issue(self, order_id: UUID, inspector: Actor) -> None:
        r = self.random
        questions = list(self.orders.policy.risk_instrument.questions)
        answers = {q: r.random() < 0.3 for q in questions}
        self.orders.handle(AssessRisk(answers=answers), order_id, by=inspector)
        if r.random() < 0.1:
            return  # still waiting for a decision
        kind = r.choices(list(OrderKind), weights=(4, 4, 2))[0]
        persons = [p.person_id for p in self.orders.get(order_id).request.protected_persons]
        issue = IssueOrder(
            kind=kind,
            conditions=[Condition.NO_CONTACT, r.choice(list(Condition))],
            protected_person_ids=persons,
            inspector_id=inspector.id,
            valid_from=self.clock(),
            valid_until=None,  # the policy's duration for the kind
        )
        order = self.orders.handle(issue, order_id, by=inspector).order
        if r.random() < 0.8:  # she consents to prove visits with an app on her phone
            enrol = EnrolPresenceProof(person_id=persons[0], kind=ProofKind.APP)
            returned = self.orders.handle(enrol, order_id, by=inspector).returned
            if isinstance(returned, NewProof):
                self.secrets[order_id] = returned.secret
        self.at(
            self.clock() + timedelta(hours=r.randint(2, 30)),
            lambda: self._serve(order_id, inspector),
        )
        diligence = r.choice((0.95, 0.9, 0.8, 0.5))  # some inspectors miss check-ins
        self._plan_visits(
            order_id, inspector, diligence, order.check_ins.windows() if order.check_ins else []
        )
        if r.random() < 0.15:
            self.at(
                self.clock() + timedelta(days=r.uniform(1, 20)),
                lambda: self._breach(order_id, inspector),
            )
        if kind is OrderKind.TEMPORARY and r.random() < 0.3:
            self.at(self.clock() + timedelta(days=2), lambda: self._extend(order_id, inspector))
        elif r.random() < 0.05:
            self.at(
                self.clock() + timedelta(days=r.uniform(1, 20)),
                lambda: self._attempt_to(
                    RevokeOrder(reason="court decision"), order_id, by=inspector
                ),
            )

    def _extend(self, order_id: UUID, inspector: Actor) -> None:
        order = self.orders.get(order_id)
        if order.terms is not None:
            until = order.terms.valid_from + timedelta(days=self.random.choice((10, 20, 30)))
            extend = ExtendOrder(valid_until=until, reason="continued threat")
            self._attempt_to(extend, order_id, by=inspector)

    def _plan_visits(
        self,
        order_id: UUID,
        inspector: Actor,
        diligence: float,
        windows: list[tuple[datetime, datetime]],
    ) -> None:
        for opens, due in windows:
            if self.random.random() < diligence:
                moment = opens + (due - opens) * self.random.uniform(0.2, 0.95)
                self.at(moment, lambda: self._visit(order_id, inspector))
            elif diligence < 0.6 and self.random.random() < 0.4:  # a cover-up, days later
                claimed = opens + (due - opens) * self.random.uniform(0.3, 0.9)
                self.at(
                    due + timedelta(days=self.random.uniform(1, 3)),
                    self._forged_visit(order_id, inspector, claimed),
                )

    def _forged_visit(self, order_id: UUID, inspector: Actor, claimed: datetime) -> Step:
        visit = RecordVisit(  # no proof: none to give
            visited_at=claimed, met_with=["p1"], outcome=VisitOutcome.PERSON_SAFE
        )
        return lambda: self._attempt_to(visit, order_id, by=inspector)

    def _attempt(self, step: Step) -> None:
        try:
            step()
        except Exception:  # the order may have ended meanwhile: as in life, nothing to do
            return

    def _attempt_to(self, command: Command, order_id: UUID, *, by: Actor) -> None:
        self._attempt(lambda: self.orders.handle(command, order_id, by=by))

    def _serve(self, order_id: UUID, inspector: Actor) -> None:
        served = RecordService(
            served_at=self.clock() - timedelta(minutes=30), method=ServiceMethod.IN_PERSON
        )
        self._attempt_to(served, order_id, by=inspector)

    def _visit(self, order_id: UUID, inspector: Actor) -> None:
        claimed = self.clock() - timedelta(minutes=self.random.randint(5, 120))
        outcome = self.random.choices(list(VisitOutcome), weights=(8, 2, 1, 1))[0]
        secret = self.secrets.get(order_id)
        visit = RecordVisit(
            visited_at=claimed,
            met_with=["p1"],
            outcome=outcome,
            proof_code=None if secret is None else pyotp.TOTP(secret).at(claimed),
        )
        self._attempt_to(visit, order_id, by=inspector)

    def _breach(self, order_id: UUID, inspector: Actor) -> None:
        r, now = self.random, self.clock()

        def report() -> None:
            breach = ReportBreach(occurred_at=now - timedelta(hours=2), description="(demo)")
            breach_id = self._new(breach, order_id, by=inspector)
            if r.random() < 0.7:
                response = RespondToBreach(
                    breach_id=breach_id,
                    response=r.choice(list(BreachResponseKind)),
                    responded_at=now,
                )
                self.orders.handle(response, order_id, by=inspector)
            if r.random() < 0.4:
                escalate = Escalate(
                    target=EscalationTarget.SUPERVISOR, reason="breach after warning"
                )
                escalation_id = self._new(escalate, order_id, by=inspector)
                chief = Actor("chief-" + inspector.id.split("-")[1], Role.SUPERVISOR)
                if r.random() < 0.6:
                    acknowledge = AcknowledgeEscalation(escalation_id=escalation_id)
                    self.at(
                        now + timedelta(hours=r.randint(1, 40)),
                        lambda: self._attempt_to(acknowledge, order_id, by=chief),
                    )

        self._attempt(report)

    def _new(self, command: Command, order_id: UUID, *, by: Actor) -> UUID:
        """Give a command that makes something new (a breach, an escalation); returns its id."""
        ref = self.orders.handle(command, order_id, by=by).ref
        assert ref is not None, f"{type(command).__name__} made nothing new"
        return ref
