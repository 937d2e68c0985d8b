"""Alert latency: a check-in deadline passes -> the alert is recorded -> its e-mail is accepted
by a local SMTP server, with the scheduler and the projection worker running as `serve` runs
them, at the default intervals (sweep every 60 s, deliveries every 5 s).

    .venv/bin/python -m bench.alert_latency [--minutes 3] [--orders 5] [--sweep-seconds 60]

Orders follow tests/drill_policy.toml (a high-risk order's check-in falls due every two
seconds), so deadlines pass all the time and each sweep finds windows missed since the last
one: the spread shows what the sweep interval costs. Times are the real clock's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from tests.factories import INSPECTOR, SOCIAL_WORKER, an_assessment, issue_order, request_order
from tests.receivers import free_port

from orders.commands.staff import EnrolStaff
from orders.directory import Directory
from orders.values import Actor, OrderKind, Role
from scheduler.jobs import start_scheduler
from service.bootstrap import bootstrap
from service.settings import Settings
from service.work import jobs

DRILL = Path(__file__).parents[1] / "tests" / "drill_policy.toml"


class Accepting:
    """An SMTP server's handler that notes when it accepted each message, by its key."""

    def __init__(self) -> None:
        self.accepted: dict[str, datetime] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        at = datetime.now(tz=UTC)
        for line in envelope.content.decode().splitlines():
            if line.startswith("X-Idempotency-Key:"):
                with self.lock:
                    self.accepted[line.split(":", 1)[1].strip()] = at
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--sweep-seconds", type=float, default=Settings().sweep_seconds)
    args = parser.parse_args()

    handler, port = Accepting(), free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{folder}/latency.db",
            policy_file=DRILL,
            smtp_port=port,
            sweep_seconds=args.sweep_seconds,
        )
        service = bootstrap(settings)
        admin = Actor("bench-admin", Role.ADMIN)
        Directory(service.orders).enrol(
            EnrolStaff(
                staff_id=INSPECTOR.id, role="inspector", districts=["Lenin"], email="i@x.example"
            ),
            by=admin,
        )
        service.views.start(settings.projection_poll_seconds)
        scheduler = start_scheduler(
            service.orders,
            service.views,
            service.deadlines,
            every_seconds=settings.sweep_seconds,
            jobs=jobs(service),
        )
        print(
            f"sweep every {settings.sweep_seconds:g} s, deliveries every "
            f"{settings.deliver_seconds:g} s, projections every "
            f"{settings.projection_poll_seconds:g} s; running {args.minutes:g} min ..."
        )
        orders, ends = service.orders, time.monotonic() + args.minutes * 60
        while time.monotonic() < ends:  # a drill order lives a minute: keep opening more
            for _ in range(args.orders):
                order = orders.handle(request_order(orders.now()), by=SOCIAL_WORKER).order
                orders.handle(an_assessment(), order.id, by=INSPECTOR)
                issue = issue_order(orders.now(), kind=OrderKind.COURT)
                orders.handle(issue, order.id, by=INSPECTOR)
            time.sleep(min(20.0, max(ends - time.monotonic(), 0)))
        time.sleep(2 * settings.deliver_seconds + 1)  # the last sweep's alerts go out too
        scheduler.shutdown(wait=True)
        service.views.stop()
        service.views.catch_up()
        rows = service.views.db.query(
            "SELECT key, payload, created_at FROM outbox WHERE topic = 'alert_raised' "
            "AND kind = 'missed_check_in'"
        )
        service.close()
    smtp.stop()

    recorded, delivered, total = [], [], []
    for row in rows:
        accepted = handler.accepted.get(row["key"])
        if accepted is None:
            continue
        payload = json.loads(row["payload"])
        due = datetime.fromisoformat(payload["due_at"])
        at = datetime.fromisoformat(row["created_at"])
        recorded.append((at - due).total_seconds())
        delivered.append((accepted - at).total_seconds())
        total.append((accepted - due).total_seconds())
    print(f"{len(total)} missed check-ins alerted and accepted by SMTP (of {len(rows)} raised)")
    for name, values in (
        ("deadline -> alert recorded", recorded),
        ("alert recorded -> e-mail accepted", delivered),
        ("deadline -> e-mail accepted", total),
    ):
        if values:
            q = statistics.quantiles(values, n=20) if len(values) > 1 else values * 19
            print(
                f"{name:36s} median {statistics.median(values):6.1f} s   "
                f"p95 {q[18]:6.1f} s   max {max(values):6.1f} s"
            )


if __name__ == "__main__":
    main()
