"""A drill on the real clock: a whole order's life in seconds with a policy file of its own."""

from __future__ import annotations

import time
from pathlib import Path

from orders.domain import ProtectionOrder
from orders.values import Status
from scheduler.jobs import start_scheduler
from service.bootstrap import bootstrap
from service.settings import Settings
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order

DRILL = Path(__file__).parent.parent / "drill_policy.toml"
EXTREME = {"threats_to_kill": True, "strangulation": True, "children_harmed": True}


def test_a_drill_runs_alerts_and_expiry_on_the_real_clock(
    database_url: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"  # extreme risk: check in every second, for three seconds
    policy.write_text(
        DRILL.read_text()
        .replace('duration = "PT6S"', 'duration = "PT3S"')
        .replace('check_in_grace = "PT1S"', 'check_in_grace = "PT0.5S"')
    )
    service = bootstrap(Settings(database_url=database_url, policy_file=policy))
    service.views.start(interval=0.05)  # the follower, as `serve` runs it beside the scheduler
    scheduler = start_scheduler(service.orders, service.views, service.deadlines, every_seconds=0.2)
    try:
        order_id = issued_order(service.orders, answers=EXTREME)
        time.sleep(0.3)
        service.orders.handle(a_visit_command(service.orders.now()), order_id, by=INSPECTOR)
        deadline = time.monotonic() + 8
        while (
            service.orders.get(order_id).status is not Status.EXPIRED
            or len(_alerts(service, order_id)) < 2
        ):
            assert time.monotonic() < deadline, "the drill did not finish in time"
            time.sleep(0.1)
        time.sleep(0.5)  # past the last deadline: nothing more may come
        assert [a.window for a in _alerts(service, order_id)] == [2, 3]
    finally:
        scheduler.shutdown(wait=True)
        service.close()


def _alerts(service: object, order_id: object) -> list[ProtectionOrder.CheckInMissed]:
    events = service.orders.repository.event_store.get(order_id)  # type: ignore[attr-defined]
    return [e for e in events if isinstance(e, ProtectionOrder.CheckInMissed)]
