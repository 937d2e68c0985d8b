"""How well the falsification detectors tell forged visit reports from honest ones, on labelled
synthetic districts (bench/district.py) replayed through the application.

    .venv/bin/python -m bench.detectors [--seeds 5] [--first-seed 101] [--orders 180] [--weeks 6]
                                        [--codes] [--quiet]

Seeds from 101 on are the held-out set: tune on others (`--first-seed 1`), report on these.
Each seed's district is replayed on a fresh SQLite file (in /dev/shm where there is one: the
disk's syncs are not what this measures), on a simulated clock:
orders opened, breaches and visit reports filed by the application's own commands at the times
the generator drew. The scheduler is simulated rather than stepped: the real one sweeps every
60 s, which over six weeks is some 60,000 sweeps a seed, nearly all finding nothing. Instead,
before each action, the replay asks the deadlines view for the next deadline (a check-in,
a lapsing duty, an expiry) and sweeps at the first scheduler tick after it, on the same one-
minute grid: the sweep that would have found it, so every alert is recorded when the real
scheduler would have recorded it. The real detectors run once a simulated day and at the end;
their findings do not depend on when they run (decision 009).

Findings are read as supervisors read them, from the order (`ProtectionOrder.scrutiny`, what
GET /orders/{id} shows), and joined with the labels by the version of each report's event. A
forged report is caught if it carries any finding. Per seed and pooled over the seeds, the
table gives for each label its reports, how many were flagged (recall for a forging pattern,
the false flag rate for honest reports), how many by a moderate or strong finding, the share
flagged by each rule, and the share flagged by that rule alone (what it catches that no other
rule does).

Today reports carry no proof code: the application keeps codes but cannot verify them. With
`--codes`, each report carries a code where the protected person gave one (to an honest
inspector at the visit, or to a forger who phoned her), as if codes were verified, and the
policy expects codes (`codes_expected`): what the detectors would see once they are.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from uuid import UUID

import pyotp
from tests.factories import HIGH_RISK_ANSWERS, an_assessment, issue_order, request_order

from bench.district import generate
from bench.forgeries import PATTERNS
from bench.world import HONEST, MIDNIGHT, Action, Breach, District, Order, Report, day_of
from orders import errors
from orders.clock import SimulatedClock
from orders.commands import EnrolPresenceProof, NewProof, RecordVisit, ReportBreach
from orders.detectors import RULES
from orders.inputs import PositionIn
from orders.presence import ProofKind
from orders.values import Actor, OrderKind, RiskLevel, Role, Strength, VisitOutcome
from projections.database import iso
from service.bootstrap import Service, bootstrap
from service.settings import Settings
from service.work import detect_now, sweep_now

SOCIAL_WORKER = Actor("sw-district", Role.SOCIAL_WORKER)
MEDIUM_RISK_ANSWERS = {"violence_increasing": True}  # score 3: medium
SHORT = {
    "cover_up": "cover_up",
    "claims_before_incident": "incident",
    "no_proof": "no_proof",
    "impossible_travel": "travel",
    "batch_entry": "batch",
    "one_place": "place",
    "without_position": "no_pos",
}
SHM = Path("/dev/shm")
CODES_POLICY = {"codes_expected": "true"}
FORGED = "forged, every pattern"
ROWS = (HONEST, "  of honest inspectors", "  of forging inspectors", FORGED, *PATTERNS)


@dataclass(frozen=True)
class Scored:
    """One generated report and what became of it: the rules that flagged it, or its refusal."""

    report: Report
    by_forger: bool
    rules: dict[str, Strength] = field(default_factory=dict)
    refused: str | None = None

    def flagged(self, *, at_least: Strength = Strength.WEAK) -> bool:
        return any(s.rank <= at_least.rank for s in self.rules.values())


@dataclass
class Replay:
    """Replays a district's actions through the service, sweeping as the scheduler would."""

    service: Service
    clock: SimulatedClock
    tick: timedelta = timedelta(seconds=60)
    swept_at: datetime = MIDNIGHT
    orders: dict[int, UUID] = field(default_factory=dict)
    filed: dict[tuple[UUID, int], Report] = field(default_factory=dict)  # by event version
    refused: dict[int, str] = field(default_factory=dict)  # by id(report): the refusal's name
    codes: bool = False  # whether reports carry the code she gave (see visit_command)
    secrets: dict[int, str] = field(default_factory=dict)  # her app's secret, by order

    def run(self, district: District, progress: Callable[[int, int], None]) -> list[Scored]:
        day = -1
        for i, action in enumerate(district.actions):
            self.sweep_until(action.at)
            if day_of(action.at) != day:
                day = day_of(action.at)
                self.detect()
                progress(i, day)
            self.clock.set(action.at)
            self.perform(action)
        self.detect()
        return self.scored(district)

    def sweep_until(self, until: datetime) -> None:
        """Every sweep the real scheduler would have made by `until` that finds something."""
        while (due := self.next_deadline()) is not None:
            tick = MIDNIGHT + ((due - MIDNIGHT) // self.tick + 1) * self.tick
            if tick > until:
                return
            self.clock.set(tick)
            sweep_now(self.service)
            self.swept_at = tick

    def next_deadline(self) -> datetime | None:
        self.service.views.catch_up()
        found = [
            self.service.views.db.query(
                f"SELECT MIN({column}) AS due FROM deadlines WHERE {column} >= ?",
                (iso(self.swept_at),),
            )[0]["due"]
            for column in ("check_in_deadline", "duty_due", "expires_at")
        ]
        return min((datetime.fromisoformat(d) for d in found if d is not None), default=None)

    def detect(self) -> None:
        self.service.views.catch_up()
        detect_now(self.service)

    def perform(self, action: Action) -> None:
        orders = self.service.orders
        if isinstance(action, Order):
            self.orders[action.index] = open_order(self.service, action)
            if self.codes:  # she is enrolled at issuance: her app makes the codes
                enrol = EnrolPresenceProof(person_id="p1", kind=ProofKind.APP)
                new = orders.handle(enrol, self.orders[action.index], by=SOCIAL_WORKER).returned
                assert isinstance(new, NewProof)
                self.secrets[action.index] = new.secret
        elif isinstance(action, Breach):
            breach = ReportBreach(occurred_at=action.occurred_at, description="he came to her door")
            orders.handle(breach, self.orders[action.order], by=SOCIAL_WORKER)
        else:
            inspector = Actor(action.inspector, Role.INSPECTOR)
            try:
                outcome = orders.handle(
                    visit_command(action, secret=self.secrets.get(action.order)),
                    self.orders[action.order],
                    by=inspector,
                )
            except errors.DomainError as e:
                self.refused[id(action)] = type(e).__name__
                return
            self.filed[(outcome.order.id, outcome.order.version)] = action

    def scored(self, district: District) -> list[Scored]:
        rules: dict[int, dict[str, Strength]] = {id(r): {} for r in district.reports}
        for order_id in self.orders.values():
            for finding in self.service.orders.get(order_id).scrutiny.findings:
                report = self.filed.get((order_id, finding.flagged_version))
                if report is not None:
                    rules[id(report)][finding.rule] = finding.strength
        forgers = {i.id for i in district.inspectors if i.pattern is not None}
        return [
            Scored(r, r.inspector in forgers, rules[id(r)], self.refused.get(id(r)))
            for r in district.reports
        ]


def open_order(service: Service, order: Order) -> UUID:
    """Request, assess and issue the order (a court order: it outlives the span)."""
    locations = [
        {
            "kind": kind,
            "address": f"{kind} of order {order.index}",
            "position": {"latitude": p.latitude, "longitude": p.longitude},
        }
        for kind, p in (("home", order.home), ("work", order.work))
        if p is not None
    ]
    woman = {
        "person_id": "p1",
        "name": "Aizada",
        "sex": "female",
        "birth_date": "1994-04-02",
        "locations": locations,
    }
    orders, inspector = service.orders, Actor(order.inspector, Role.INSPECTOR)
    request = request_order(order.at, protected_persons=[woman])
    order_id = orders.handle(request, by=SOCIAL_WORKER).order.id
    high = order.level is RiskLevel.HIGH
    answers = HIGH_RISK_ANSWERS if high else MEDIUM_RISK_ANSWERS
    orders.handle(an_assessment(answers), order_id, by=inspector)
    issue = issue_order(
        order.at, kind=OrderKind.COURT, protected_person_ids=["p1"], inspector_id=order.inspector
    )
    orders.handle(issue, order_id, by=inspector)
    return order_id


def visit_command(report: Report, *, secret: str | None = None) -> RecordVisit:
    """The report as the command carries it: claimed time, outcome, position and, where she
    is enrolled (`secret`) and gave her code, the code her app showed when she gave it: at
    the visit, or when the forger phoned her as he filed. The service verifies it."""
    position = report.position
    given = report.visited_at if report.visited_at is not None else report.at
    code = pyotp.TOTP(secret).at(given) if secret and report.proof_given else None
    return RecordVisit(
        visited_at=report.claimed_at,
        met_with=[] if report.outcome is VisitOutcome.PERSON_NOT_FOUND else ["p1"],
        outcome=report.outcome,
        position=None
        if position is None
        else PositionIn(latitude=position.latitude, longitude=position.longitude),
        proof_code=code,
    )


# The table


@dataclass(frozen=True)
class Tally:
    """How many reports of one label; how many flagged (by any finding, by a moderate or strong
    one); by each rule, and by that rule alone."""

    reports: int
    flagged: int
    flagged_moderate: int
    by_rule: dict[str, int]
    only_rule: dict[str, int]

    def share(self, n: int) -> float:
        return n / self.reports if self.reports else 0.0


def tally(scored: list[Scored]) -> dict[str, Tally]:
    """One tally per row of the table: honest reports (all, then by whose), forged reports (all,
    then per pattern). Refused reports are left out (the run says how many)."""
    rows: dict[str, list[Scored]] = {row: [] for row in ROWS}
    for s in scored:
        if s.refused is not None:
            continue
        rows[s.report.label].append(s)
        if s.report.label == HONEST:
            rows[ROWS[2] if s.by_forger else ROWS[1]].append(s)
        else:
            rows[FORGED].append(s)
    return {
        row: Tally(
            len(group),
            sum(s.flagged() for s in group),
            sum(s.flagged(at_least=Strength.MODERATE) for s in group),
            dict(Counter(rule for s in group for rule in s.rules)),
            dict(Counter(rule for s in group if len(s.rules) == 1 for rule in s.rules)),
        )
        for row, group in rows.items()
    }


def recall(tallies: dict[str, Tally]) -> dict[str, float]:
    """Per forging pattern, the share of its reports carrying any finding."""
    return {p: tallies[p].share(tallies[p].flagged) for p in PATTERNS}


def render(tallies: dict[str, Tally]) -> str:
    """The table: per label, reports, flagged (count and share; share flagged moderate or
    strong), share flagged by each rule; then the share flagged by that rule alone."""
    rules = "".join(f"{SHORT.get(rule, rule):>9s}" for rule in RULES)
    lines = [f"{'':28s}{'reports':>8s}{'flagged':>15s}{'mod+':>7s}{rules}"]
    for row, t in tallies.items():
        cells = "".join(f"{100 * t.share(t.by_rule.get(rule, 0)):8.1f}%" for rule in RULES)
        name = f"{row} (recall)" if row in PATTERNS else row
        lines.append(
            f"{name:28s}{t.reports:8d}{t.flagged:8d}{100 * t.share(t.flagged):6.1f}%"
            f"{100 * t.share(t.flagged_moderate):6.1f}%" + cells
        )
    lines.append(f"\n{'flagged by that rule alone':58s}{rules}")
    for row, t in tallies.items():
        cells = "".join(f"{100 * t.share(t.only_rule.get(rule, 0)):8.1f}%" for rule in RULES)
        lines.append(f"{row:58s}" + cells)
    return "\n".join(lines)


def replay_seed(
    seed: int, *, orders: int, weeks: int, folder: Path | None = None, codes: bool = False
) -> tuple[District, list[Scored]]:
    """Generate the seed's district and replay it on a fresh SQLite file under `folder`."""
    district = generate(seed, orders=orders, weeks=weeks)
    started, days = time.perf_counter(), 7 * weeks

    def progress(done: int, day: int) -> None:
        if day % 7 == 0 or done == 0:
            print(
                f"  seed {seed}: day {day}/{days}, {done}/{len(district.actions)} actions, "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    with tempfile.TemporaryDirectory(dir=folder) as own:
        clock = SimulatedClock(MIDNIGHT)
        settings = Settings(
            database_url=f"sqlite:///{own}/orders.db",
            policy_file=codes_policy(Path(own)) if codes else None,
        )
        service = bootstrap(settings, clock=clock)
        try:
            return district, Replay(service, clock, codes=codes).run(district, progress)
        finally:
            service.close()


def codes_policy(folder: Path) -> Path:
    """The default policy as it would be once codes are verified (decision 018): codes are
    expected, so a position alone proves no presence."""
    text = resources.files("orders").joinpath("default_policy.toml").read_text()
    for key, value in CODES_POLICY.items():
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.MULTILINE)
        assert n == 1, key
    path = folder / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=101)
    parser.add_argument("--orders", type=int, default=180)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument(
        "--folder",
        type=Path,
        default=SHM if SHM.is_dir() else None,
        help="where the SQLite files go (default: /dev/shm if there is one)",
    )
    parser.add_argument(
        "--codes",
        action="store_true",
        help="reports carry the code she gave, as if codes were verified, under the policy for "
        "verified codes (default: no codes, today's policy)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the pooled table, not each seed's"
    )
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(
        f"Detectors on labelled districts: {args.orders} orders, {args.weeks} weeks, "
        f"seeds {seeds[0]}-{seeds[-1]}, {'codes as given' if args.codes else 'no codes'}; "
        "flagged, mod+ (moderate or strong) and rule columns: % of the row's reports\n"
    )
    pooled: list[Scored] = []
    for seed in seeds:
        started = time.perf_counter()
        district, scored = replay_seed(
            seed, orders=args.orders, weeks=args.weeks, folder=args.folder, codes=args.codes
        )
        pooled += scored
        forging = sum(i.pattern is not None for i in district.inspectors)
        refused = sum(s.refused is not None for s in scored)
        print(
            f"seed {seed}: {len(district.inspectors)} inspectors ({forging} forging), "
            f"{len(scored)} reports, {refused} refused, {time.perf_counter() - started:.0f} s"
        )
        if not args.quiet:
            print(render(tally(scored)) + "\n", flush=True)
    print(f"pooled over {len(seeds)} seeds")
    print(render(tally(pooled)))


if __name__ == "__main__":
    main()
