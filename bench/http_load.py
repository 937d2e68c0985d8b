"""The HTTP service under an open-loop load at stepped rates: throughput, p50 and p99 per step.

    .venv/bin/python -m bench.http_load [--orders 400] [--rates 25,50,100,200,400,700,1000]
        [--seconds 10] [--processes 1,2] [--generators 1] [--shared-port] [--alone 150]

A throwaway PostgreSQL cluster with fsync and synchronous commits on (or the server named by
PROTECTION_ORDERS_TEST_POSTGRES_URL) is filled once with six weeks of work on issued orders
of high threat (bench.caseload: visits, codes, some inspectors behind). Each run gets a
fresh copy of that database, and the real service as separate
processes, as in production: `serve --only api` once per API process, each on its own port
(or all on one, `--shared-port`), and one `serve --only projections --only scheduler`.

The load: 60% `GET /orders/{id}` (a court registry's reader), 20% the overdue
list `GET /orders?overdue=true` (a district's supervisor), 20% `POST /orders/{id}/visits`
(the assigned inspector, with her code when she enrolled one). Arrivals
are Poisson at the step's rate; each request is timed from when it was due. Requests are
spread round-robin over the API processes' ports, as a load balancer would. A run stops
stepping up once p99 passes 1 s or errors pass 5%.

Per step: the offered rate, the rate the generator sent at and its lag behind schedule
(p99), answers per second, p50 / p99 / max latency, errors (non-2xx by status, timeouts),
and the CPU each part used (100% is one core): API processes, the worker, PostgreSQL, the
generator. Then p50 / p99 per kind of request. With `--alone RATE`, each kind is then sent
alone at RATE, and the API processes' CPU per request of each kind is reported (milliseconds
of CPU, user and system, per answer): what decides how many requests a core can serve.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pyotp
from tests.pg_cluster import Cluster

from api.tokens import ALL_DISTRICTS, Tokens, User
from bench import fleet, open_loop
from bench.caseload import Case, Caseload
from bench.open_loop import Answered, Planned, Share
from orders.clock import SimulatedClock
from orders.values import Role
from service.bootstrap import bootstrap
from service.settings import Settings

TOKEN_KEY = "http-load-bench-token-key-" + "0" * 32
MIX = {"get_order": 0.6, "overdue_list": 0.2, "record_visit": 0.2}
STOP_P99_SECONDS = 1.0
STOP_ERROR_SHARE = 0.05


# The data set.


def fill(url: str, *, orders: int, seed: int) -> list[Case]:
    """The caseload's weeks of work on the database at `url`; its orders."""
    print(f"filling: six weeks of work on {orders} orders ...", file=sys.stderr, flush=True)
    now = datetime.now(tz=UTC)
    clock = SimulatedClock(now)
    service = bootstrap(Settings(database_url=url), clock=clock)
    try:
        cases = Caseload(service, clock, count=orders, seed=seed).run(now)
        print(f"filled: {service.views.head()} events", file=sys.stderr, flush=True)
    finally:
        service.close()
    return cases


def copy_database(admin_url: str, template_url: str) -> str:
    """A new database, a copy of the one at `template_url`; returns its URL."""
    template, name = template_url.rsplit("/", 1)[1], f"run_{os.getpid()}_{time.time_ns()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (template,),
        )
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return template_url.rsplit("/", 1)[0] + "/" + name


# The load.


class Mix:
    """Requests of the mix, each with a token of the caller who would send it."""

    def __init__(self, cases: Sequence[Case], tokens: Tokens, *, host: str) -> None:
        if not cases:
            raise SystemExit("the caseload has no issued order: give more --orders")
        self.cases = list(cases)
        self.districts = sorted({case.district for case in cases})
        self.host = host
        now, lifetime = datetime.now(tz=UTC), timedelta(hours=2)

        def bearer(user_id: str, role: Role, districts: set[str]) -> str:
            return tokens.mint(
                User(user_id, role, frozenset(districts)), now=now, lifetime=lifetime
            )

        self.reader = bearer("court-registry", Role.READER, {ALL_DISTRICTS})
        self.chiefs = {
            d: bearer(f"chief-{d.lower()}", Role.SUPERVISOR, {d}) for d in self.districts
        }
        self.inspectors = {
            case.inspector_id: bearer(case.inspector_id, Role.INSPECTOR, {case.district})
            for case in cases
        }

    def plan(
        self, rate: float, seconds: float, rng: random.Random, mix: dict[str, float] = MIX
    ) -> list[Planned]:
        """Poisson arrivals at `rate` for `seconds`, each of a kind drawn from `mix`."""
        planned, at, now = [], rng.expovariate(rate), datetime.now(tz=UTC)
        kinds, weights = list(mix), list(mix.values())
        while at < seconds:
            kind = rng.choices(kinds, weights)[0]
            planned.append(Planned(at, kind, self.request(kind, rng, now)))
            at += rng.expovariate(rate)
        return planned

    def request(self, kind: str, rng: random.Random, now: datetime) -> bytes:
        if kind == "get_order":
            return self._raw("GET", f"/orders/{rng.choice(self.cases).order_id}", self.reader)
        if kind == "overdue_list":
            district = rng.choice(self.districts)
            return self._raw("GET", "/orders?overdue=true", self.chiefs[district])
        order = rng.choice(self.cases)
        claimed = max(now - timedelta(minutes=rng.uniform(5, 90)), order.valid_from)
        visit: dict[str, object] = {
            "visited_at": claimed.isoformat(),
            "met_with": ["p1"],
            "outcome": "person_safe",
            "position": order.at_home(rng),
        }
        if order.secret is not None:
            visit["proof_code"] = pyotp.TOTP(order.secret).at(claimed)
        path = f"/orders/{order.order_id}/visits"
        return self._raw("POST", path, self.inspectors[order.inspector_id], visit)

    def _raw(self, method: str, path: str, token: str, body: object = None) -> bytes:
        content = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n"
        )
        return head.encode() + content


# The steps.


@dataclass(frozen=True)
class Load:
    """How the generator sends: from how many processes, over how many connections, with
    what patience, at what rates for how long."""

    rates: Sequence[float]
    seconds: float
    warmup: float
    generators: int
    connections: int  # to each API port, all generators together
    timeout: float
    host: str = "127.0.0.1"
    alone: float | None = None  # then each kind alone at this rate, for its CPU per request


@dataclass(frozen=True)
class Step:
    """What one step measured."""

    rate: float
    answers: list[Answered]
    seconds: float  # from the start to the last answer (or the last due time)
    cpu: dict[str, float]  # share of one core, by part
    wall: float = math.nan  # seconds the CPU was counted over
    only: str | None = None  # the one kind sent, if not the mix

    @property
    def api_ms_per_answer(self) -> float:
        """The API processes' CPU (milliseconds) per request answered."""
        answered = sum(a.latency is not None for a in self.answers)
        return self.cpu["api"] * self.wall * 1000 / answered if answered else math.nan

    def latencies(self, kind: str | None = None) -> list[float]:
        """Every request's latency; one not answered counts as never (inf)."""
        return sorted(
            math.inf if a.latency is None else a.latency
            for a in self.answers
            if kind is None or a.kind == kind
        )

    @property
    def errors(self) -> Counter[str]:
        return Counter(str(a.status) for a in self.answers if not _ok(a.status))

    @property
    def failing(self) -> bool:
        errors = sum(self.errors.values()) / max(len(self.answers), 1)
        return percentile(self.latencies(), 0.99) > STOP_P99_SECONDS or errors > STOP_ERROR_SHARE


def _ok(status: int | str) -> bool:
    return isinstance(status, int) and 200 <= status < 300


def percentile(ordered: Sequence[float], share: float) -> float:
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def step(
    mix: Mix,
    running: fleet.Fleet,
    load: Load,
    rate: float,
    seconds: float,
    pool: ProcessPoolExecutor | None,
    only: str | None = None,
) -> Step:
    """One step: the mix (or `only` that kind) at `rate` for `seconds`, from every generator
    at once."""
    kinds = MIX if only is None else {only: 1.0}
    plan = mix.plan(rate, seconds, random.Random(f"{rate}/{len(running.api)}/{only}"), kinds)
    per = math.ceil(load.connections / load.generators)
    shares = [
        Share(plan[i :: load.generators], load.host, running.ports, per, load.timeout)
        for i in range(load.generators)
    ]
    start_at = time.time() + 0.5
    before = running.cpu()
    if pool is None:
        results = [open_loop.run(shares[0], start_at)]
    else:
        results = list(pool.map(open_loop.run, shares, [start_at] * len(shares)))
    after = running.cpu()
    wall = time.time() - start_at
    answers = sorted((a for answers, _ in results for a in answers), key=lambda a: a.at)
    cpu = {part: (after[part] - before[part]) / wall for part in after}
    cpu["generator"] = sum(spent for _, spent in results) / wall
    ends = [a.at + a.latency for a in answers if a.latency is not None]
    return Step(rate, answers, max(ends, default=seconds), cpu, wall, only)


def row(s: Step) -> str:
    n = len(s.answers)
    sent_by = max((a.at + a.lag for a in s.answers), default=0.0)
    lag = percentile(sorted(a.lag for a in s.answers), 0.99)
    answered = sum(a.latency is not None for a in s.answers)
    latencies = s.latencies()
    errors = " ".join(f"{k}:{v}" for k, v in sorted(s.errors.items())) or "-"
    cpu = " ".join(f"{s.cpu[p] * 100:4.0f}" for p in ("api", "worker", "postgres", "generator"))
    return (
        f"{s.rate:7.0f} {n / max(sent_by, 1e-9):7.0f} {ms(lag):>7} {answered / s.seconds:7.0f} "
        f"{ms(percentile(latencies, 0.5)):>7} {ms(percentile(latencies, 0.99)):>7} "
        f"{ms(latencies[-1] if latencies else math.nan):>7}   {cpu}   {errors}"
    )


HEADER = (
    "offered    sent lag p99   ans/s     p50     p99     max    cpu%: api work   pg  gen   errors"
)


def kinds_row(s: Step) -> str:
    cells = []
    for kind in MIX:
        latencies = s.latencies(kind)
        cells.append(f"{ms(percentile(latencies, 0.5)):>7} {ms(percentile(latencies, 0.99)):>7}")
    return f"{s.rate:7.0f}   " + "   ".join(cells)


KINDS_HEADER = "offered   " + "   ".join(f"{kind + ' p50/p99':>15}" for kind in MIX)


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    return "never" if math.isinf(seconds) else f"{seconds * 1000:.0f}"


def run(
    mix: Mix, database_url: str, *, processes: int, shared_port: bool, load: Load, logs: Path
) -> list[Step]:
    """Step up the rates on a fresh service of `processes` API processes; the steps run."""
    settings = {"PROTECTION_ORDERS_TOKEN_KEY": TOKEN_KEY}
    steps: list[Step] = []
    pool = None
    if load.generators > 1:
        pool = ProcessPoolExecutor(load.generators, mp_context=multiprocessing.get_context("spawn"))
    try:
        with fleet.running(
            database_url, processes=processes, shared_port=shared_port, logs=logs, settings=settings
        ) as service:
            print(f"  warming up ({load.warmup:g} s) ...", file=sys.stderr, flush=True)
            step(mix, service, load, load.rates[0], load.warmup, pool)
            for rate in load.rates:
                print(f"  {rate:g} requests/s ...", file=sys.stderr, flush=True)
                steps.append(step(mix, service, load, rate, load.seconds, pool))
                if steps[-1].failing:
                    break
            if load.alone is not None:
                steps += alone(mix, service, load, load.alone, pool)
    finally:
        if pool is not None:
            pool.shutdown()
    return steps


def alone(
    mix: Mix, running: fleet.Fleet, load: Load, rate: float, pool: ProcessPoolExecutor | None
) -> list[Step]:
    """A step of each kind of the mix alone, at `rate`: what each costs the API processes."""
    steps = []
    for kind in MIX:
        print(f"  {kind} alone at {rate:g}/s ...", file=sys.stderr, flush=True)
        steps.append(step(mix, running, load, rate, load.seconds, pool, kind))
    return steps


def report(title: str, steps: Sequence[Step]) -> None:
    stepped = [s for s in steps if s.only is None]
    print(f"\n{title}")
    print(HEADER)
    for s in stepped:
        print(row(s))
    print("latency by kind (ms)")
    print(KINDS_HEADER)
    for s in stepped:
        print(kinds_row(s))
    alone = [s for s in steps if s.only is not None]
    if alone:
        print("each kind alone: the API processes' CPU per answer (ms)")
        for s in alone:
            print(f"{s.only:>15} at {s.rate:g}/s: {s.api_ms_per_answer:.2f}   {row(s)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=400, help="orders in the caseload")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rates", default="25,50,100,200,400,700,1000", help="requests/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="per step")
    parser.add_argument("--warmup", type=float, default=3.0, help="at the first rate, unreported")
    parser.add_argument("--processes", default="1,2", help="API processes, one run each")
    parser.add_argument("--generators", type=int, default=1, help="load generator processes")
    parser.add_argument("--connections", type=int, default=256, help="per API port, at most")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for an answer")
    parser.add_argument("--shared-port", action="store_true", help="all API processes on one")
    parser.add_argument(
        "--alone", type=float, help="then each kind alone at this rate: its CPU per request"
    )
    args = parser.parse_args(argv)
    load = Load(
        rates=[float(r) for r in args.rates.split(",")],
        seconds=args.seconds,
        warmup=args.warmup,
        generators=args.generators,
        connections=args.connections,
        timeout=args.timeout,
        alone=args.alone,
    )
    cluster = Cluster(durable=True)
    try:
        with psycopg.connect(cluster.admin_url) as conn:
            shown = [
                f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
                for name in ("fsync", "synchronous_commit")
            ]
        template = cluster.create_database()
        cases = fill(template, orders=args.orders, seed=args.seed)
        mix = Mix(cases, Tokens(TOKEN_KEY), host=load.host)
        print(
            f"PostgreSQL ({', '.join(shown)}); {len(cases)} issued orders, "
            f"{len(mix.inspectors)} inspectors; "
            f"{os.cpu_count()} cores; Poisson arrivals, {load.seconds:g} s a step; "
            f"{load.generators} generator process(es); latency from each request's due time"
        )
        for processes in (int(p) for p in args.processes.split(",")):
            print(f"{processes} API process(es) ...", file=sys.stderr, flush=True)
            with tempfile.TemporaryDirectory(prefix="http-load-") as logs:
                steps = run(
                    mix,
                    copy_database(cluster.admin_url, template),
                    processes=processes,
                    shared_port=args.shared_port,
                    load=load,
                    logs=Path(logs),
                )
            where = "one shared port" if args.shared_port else "a port each, round-robin"
            report(f"{processes} API process(es), {where}; one worker process", steps)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
