"""A labelled synthetic district, seeded: orders, inspectors honest and forging, and every
report they file, each labelled `honest` or with the forging pattern that made it.

    generate(seed, orders=180, weeks=6) -> District

One seed, one district (`random.Random(seed)`). Cadences and grace come from the policy, so
the check-in windows are the application's own. Orders are high threat (70%) or medium, issued
in the first week; an inspector has about twelve, mostly within 3 km of his beat's centre.

Honest inspectors visit each window on a day inside it (4% of windows a day or two after it
fell due, 3% not at all), on a route from their office, and enter a day's reports on the spot
(minutes), that evening, the next day (up to a day and a half) or, without a connection, up to
two days later, in one sitting; entered later, the claimed time is remembered to the quarter
hour. Now and then she is met at the station or at a relative's, away from her known places.
Forging inspectors, one per pattern of `bench.forgeries.PATTERNS`, forge some of their windows
and visit the rest honestly. Breaches are reported by social workers (2% of orders a week).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from random import Random

from bench.forgeries import PATTERNS, Forging
from bench.world import (
    HONEST,
    HOUR,
    MIDNIGHT,
    MINUTE,
    WEEK,
    Action,
    Breach,
    District,
    Inspector,
    Order,
    Report,
    Window,
    around,
    day_of,
    days_inside,
    gps_fix,
    km_between,
    local,
    near,
    working,
    working_time,
)
from orders.policy import Policy, load_policy
from orders.values import OrderKind, Position, RiskLevel, VisitOutcome

CENTRE = Position(42.8746, 74.5698)
DISTRICT_KM, BEAT_KM, OUT_OF_BEAT = 10.0, 3.0, 0.15  # out of beat: anywhere in the district
CASELOAD, HIGH_SHARE, BREACH_PER_WEEK = 12, 0.7, 0.02


def generate(
    seed: int, *, orders: int = 180, weeks: int = 6, policy: Policy | None = None
) -> District:
    """The district of `seed`: `orders` orders issued in the first week, followed for `weeks`."""
    rng, policy = Random(seed), policy or load_policy()
    end = MIDNIGHT + weeks * WEEK
    if end > MIDNIGHT + policy.kinds[OrderKind.COURT].duration:
        raise ValueError(f"{weeks} weeks outlast a court order under policy {policy.version}")
    inspectors = _inspectors(rng, max(len(PATTERNS) + 2, round(orders / CASELOAD)))
    cases = tuple(_order(rng, i, inspectors[i % len(inspectors)]) for i in range(orders))
    windows = tuple(w for o in cases for w in _windows(o, policy, end))
    reports: list[Report] = []
    for inspector in inspectors:
        own = {o.index: o for o in cases if o.inspector == inspector.id}
        theirs = [w for w in windows if w.order in own]
        forged = []
        if inspector.pattern is not None:
            forging = Forging(rng, inspector, own, theirs, weeks)
            forged = PATTERNS[inspector.pattern](forging)
        done = {(r.order, r.window) for r in forged}
        rest = [w for w in theirs if (w.order, w.number) not in done]
        reports += forged + _honest(rng, inspector, own, rest)
    breaches = [b for o in cases for b in _breaches(rng, o, weeks)]
    actions: list[Action] = [*cases, *reports, *breaches]
    actions.sort(key=lambda a: a.at)  # stable: ties keep the order they were drawn in
    return District(seed, weeks, inspectors, cases, windows, tuple(actions))


def _inspectors(rng: Random, n: int) -> tuple[Inspector, ...]:
    forging: list[str | None] = [*PATTERNS, *[None] * (n - len(PATTERNS))]
    rng.shuffle(forging)
    found = []
    for i, pattern in enumerate(forging):
        beat = around(rng, CENTRE, DISTRICT_KM - BEAT_KM)
        habit = rng.choice(("office", "none", "mock"))
        found.append(Inspector(f"insp-{i + 1:02d}", around(rng, beat, 0.3), beat, pattern, habit))
    return tuple(found)


def _order(rng: Random, index: int, inspector: Inspector) -> Order:
    outside = rng.random() < OUT_OF_BEAT
    home = around(rng, CENTRE, DISTRICT_KM) if outside else around(rng, inspector.beat, BEAT_KM)
    work = around(rng, CENTRE, DISTRICT_KM) if rng.random() < 0.4 else None
    level = RiskLevel.HIGH if rng.random() < HIGH_SHARE else RiskLevel.MEDIUM
    issued = working_time(rng, MIDNIGHT, local(7, 0))
    return Order(index, level, issued, inspector.id, home, work)


def _windows(order: Order, policy: Policy, end: datetime) -> list[Window]:
    """The order's windows falling due by `end` (orders here outlive the span: no end cut)."""
    every, grace = policy.check_in_every[order.level], policy.check_in_grace
    assert every is not None
    found, k = [], 1
    while (due := order.at + k * every) <= end:
        found.append(Window(order.index, k, due - every, due, due + grace))
        k += 1
    return found


def _breaches(rng: Random, order: Order, weeks: int) -> list[Breach]:
    found = []
    for week in range(weeks):
        if rng.random() < BREACH_PER_WEEK:
            occurred = max(order.at + HOUR, MIDNIGHT + week * WEEK + rng.random() * WEEK)
            found.append(Breach(order.index, occurred, occurred + rng.uniform(1, 12) * HOUR))
    return found


# Honest visits


@dataclass(frozen=True)
class _Visit:
    window: Window
    order: Order
    at: datetime
    place: Position
    outcome: VisitOutcome


def _honest(
    rng: Random, inspector: Inspector, orders: dict[int, Order], windows: list[Window]
) -> list[Report]:
    planned: dict[int, list[Window]] = defaultdict(list)
    for window in windows:
        day = _visit_day(rng, window)
        if day is not None:
            planned[day].append(window)
    reports = []
    for day in sorted(planned):
        visits = _route(rng, inspector, day, [(w, orders[w.order]) for w in planned[day]])
        for visit, at in zip(visits, _entered(rng, visits), strict=True):
            reports.append(_honest_report(rng, inspector, visit, at))
    return reports


def _visit_day(rng: Random, window: Window) -> int | None:
    """A day inside the window; 3% of windows skipped, 4% visited a day or two after it fell due."""
    draw = rng.random()
    if draw < 0.03:
        return None
    if draw < 0.07:
        return rng.choice(
            [d for d in range(day_of(window.due), day_of(window.due) + 3) if working(d)]
        )
    return rng.choice(days_inside(window))


def _route(
    rng: Random, inspector: Inspector, day: int, stops: list[tuple[Window, Order]]
) -> list[_Visit]:
    """The day's visits, nearest first from the office, 25 km/h in town, 20-45 min each."""
    todo = [(w, o, _meeting_place(rng, o, inspector)) for w, o in stops]
    here, now, visits = inspector.office, local(day, rng.uniform(9.5, 11)), []
    while todo:
        stop = min(todo, key=lambda s: km_between(here, s[2]))
        todo.remove(stop)
        window, order, place = stop
        now += (km_between(here, place) / 25 * 60 + 5) * MINUTE
        outcome = _outcome(rng)
        found = outcome is not VisitOutcome.PERSON_NOT_FOUND
        visits.append(_Visit(window, order, now.replace(second=0, microsecond=0), place, outcome))
        now += rng.uniform(20, 45) * MINUTE if found else 5 * MINUTE
        here = place
    return visits


def _outcome(rng: Random) -> VisitOutcome:
    """She is not found 5% of the time; concerns are raised at a tenth of the others."""
    if rng.random() < 0.05:
        return VisitOutcome.PERSON_NOT_FOUND
    return VisitOutcome.CONCERNS_RAISED if rng.random() < 0.1 else VisitOutcome.PERSON_SAFE


def _meeting_place(rng: Random, order: Order, inspector: Inspector) -> Position:
    """Mostly her home, sometimes her work; now and then (1.5% each) at the station or at a
    relative's, up to 6 km from her home."""
    draw = rng.random()
    if draw < 0.015:
        return inspector.office
    if draw < 0.03:
        return around(rng, order.home, 6.0)
    if order.work is not None and draw < 0.12:
        return order.work
    return order.home


def _entered(rng: Random, visits: list[_Visit]) -> list[datetime]:
    """When each of a day's reports reaches the server: on the spot (70% of days), that evening
    (18%), the next day (8%), or one and a half to two days later for want of a connection (4%),
    the day's reports then typed one after another."""
    mode = rng.choices(("spot", "evening", "next day", "offline"), weights=(70, 18, 8, 4))[0]
    if mode == "spot":
        return [
            v.at + min(max(rng.lognormvariate(math.log(10), 0.9), 1), 180) * MINUTE for v in visits
        ]
    first, last, day = visits[0].at, visits[-1].at, day_of(visits[0].at)
    if mode == "evening":
        sitting = local(day, rng.uniform(19, 22.5))
    elif mode == "next day":
        sitting = local(day + 1, rng.uniform(8, 11) if rng.random() < 0.7 else rng.uniform(17, 21))
    else:
        sitting = first + rng.uniform(36, 46) * HOUR
    typed, times = max(sitting, last + 30 * MINUTE), []
    for _ in visits:
        typed += rng.uniform(1, 4) * MINUTE
        times.append(typed)
    return times


def _honest_report(rng: Random, inspector: Inspector, visit: _Visit, at: datetime) -> Report:
    claimed = visit.at
    if at - visit.at > HOUR:  # remembered, to the quarter hour
        guess = visit.at + max(-30.0, min(30.0, rng.gauss(0, 10))) * MINUTE
        claimed = MIDNIGHT + round((guess - MIDNIGHT) / (15 * MINUTE)) * 15 * MINUTE
    position = gps_fix(rng, visit.place)
    return Report(
        order=visit.order.index,
        window=visit.window.number,
        inspector=inspector.id,
        label=HONEST,
        at=at,
        claimed_at=min(claimed, at - MINUTE),
        position=position,
        outcome=visit.outcome,
        visited_at=visit.at,
        proof_given=visit.outcome is not VisitOutcome.PERSON_NOT_FOUND,
        position_near=near(visit.order, position),
    )
