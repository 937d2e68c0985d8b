"""The supervisors' audit: each inspector's check-ins due, on time, late, missed, flagged."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from scheduler.detection import Detection
from scheduler.sweep import sweep
from service.bootstrap import Service
from service.cli import main
from tests.api.conftest import SOCIAL_WORKER as SW
from tests.api.conftest import SUPERVISOR, issued, post

WEEK, DAY = timedelta(days=7), timedelta(days=1)


def test_an_inspectors_record_over_a_range(
    client: TestClient,
    clock: SimulatedClock,
    service: Service,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start = clock()
    order_id = issued(client, clock, kind="court")  # high threat: weekly check-ins
    o = f"/orders/{order_id}"
    proof = post(client, o + "/presence-proofs", {"person_id": "p1", "kind": "app"}, SW)
    clock.advance(3 * DAY)  # week 1: a visit on time, proven, recorded an hour after it
    visited_at = clock() - timedelta(hours=1)
    post(
        client,
        o + "/visits",
        {
            "visited_at": visited_at.isoformat(),
            "met_with": ["p1"],
            "outcome": "person_safe",
            "proof_code": pyotp.TOTP(proof["secret"]).at(visited_at),
        },
    )
    clock.set(start + 2 * WEEK + timedelta(hours=3))  # week 2 passes with no visit
    sweep(service.orders, service.views, service.deadlines)
    clock.advance(DAY)  # then a report backdated into week 2, without proof
    post(
        client,
        o + "/visits",
        {
            "visited_at": (start + WEEK + 2 * DAY).isoformat(),
            "met_with": ["p1"],
            "outcome": "person_safe",
        },
    )
    Detection(service.orders, service.views).run()

    params = {"start": start.isoformat(), "end": (start + 4 * WEEK).isoformat()}
    findings_seen = SUPERVISOR | {"X-Min-Position": str(service.views.head())}
    (row,) = client.get("/audit", params=params, headers=findings_seen).json()["items"]
    assert row == {
        "group": "insp-bakyt",
        "visits_due": 2,  # weeks 1 and 2: the late report meets no window
        "made_on_time": 1,
        "made_late": 1,
        "missed": 1,
        "flagged": 2,  # the cover-up: it claims week 2, alerted, with nothing to show a visit;
        # and no code from her, though she was enrolled
        "median_delay_hours": 74.0,
        "open_alerts": 1,  # week 2's alert stands: no later window has been met
    }
    by_district = client.get(
        "/audit", params=params | {"by": "district"}, headers=SUPERVISOR
    ).json()["items"]
    assert [r["group"] for r in by_district] == ["Lenin"]
    later = {"start": (start + 3 * WEEK).isoformat(), "end": (start + 4 * WEEK).isoformat()}
    assert client.get("/audit", params=later, headers=SUPERVISOR).json()["items"] == []
    reversed_range = {"start": params["end"], "end": params["start"]}
    assert client.get("/audit", params=reversed_range, headers=SUPERVISOR).status_code == 422

    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    service.views.stop()  # the command line is another process's: not racing this one's follower
    assert (
        main(
            [
                "audit",
                "--from",
                start.date().isoformat(),
                "--to",
                (start + 4 * WEEK).date().isoformat(),
            ]
        )
        == 0
    )
    assert "insp-bakyt\t2\t1\t1\t1\t2\t74.0\t1" in capsys.readouterr().out
