"""The Bishkek case, told through the API.

A woman's order is marked high threat. The district inspector makes no visits; the scheduler
records each missed check-in as it falls due. A breach is reported; then her death. Only then
does the inspector file reports of visits, backdated into the weeks he missed. Every forged
report is flagged, the prosecutor's timeline shows the alerts recorded before the reports,
and the case bundle she is given verifies offline.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from orders.values import Role
from scheduler.detection import Detection
from scheduler.sweep import sweep
from service.bootstrap import Service
from service.bundles import export_bundle
from service.checkpoints import make_checkpoint
from service.verification import verify_bundle
from tests.api.conftest import INSPECTOR, SOCIAL_WORKER, SUPERVISOR, bearer, post
from tests.factories import request_json

WEEK, DAY, HOUR = timedelta(days=7), timedelta(days=1), timedelta(hours=1)
PROSECUTOR = bearer("pros-bishkek", Role.PROSECUTOR, "Lenin")


def test_forged_reports_after_a_death_are_flagged_and_the_record_verifies(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    start = clock()
    body = request_json(start)
    body["protected_persons"][0]["locations"] = [
        {
            "kind": "home",
            "address": "14 Toktogul St",
            "position": {"latitude": 42.87, "longitude": 74.59},
        }
    ]
    order_id = post(client, "/orders", body, SOCIAL_WORKER)["order_id"]
    o = f"/orders/{order_id}"
    assessed = post(
        client,
        o + "/risk-assessments",
        {"answers": {"threats_to_kill": True, "strangulation": True}},
    )
    assert assessed["risk_level"] == "high"
    post(
        client,
        o + "/issue",
        {
            "kind": "court",
            "conditions": ["no_contact"],
            "protected_person_ids": ["p1", "p2"],
            "inspector_id": "insp-bakyt",
            "valid_from": start.isoformat(),
        },
    )

    # Three weeks without a visit: the sweep records each missed check-in as it falls due.
    for _ in range(3):
        clock.advance(WEEK + 3 * HOUR)
        sweep(service.orders, service.views, service.deadlines)
        clock.advance(-3 * HOUR)
    clock.advance(DAY)
    post(
        client,
        o + "/breaches",
        {"occurred_at": (clock() - 2 * HOUR).isoformat(), "description": "he broke into the flat"},
        SOCIAL_WORKER,
    )
    clock.advance(DAY)
    died_at = clock() - 5 * HOUR
    post(client, o + "/deaths", {"person_id": "p1", "died_at": died_at.isoformat()}, SOCIAL_WORKER)

    # The day after, the inspector files the visits he never made, backdated into each week.
    clock.advance(DAY)
    for week in range(3):
        claimed = start + week * WEEK + 3 * DAY
        post(
            client,
            o + "/visits",
            {
                "visited_at": claimed.isoformat(),
                "met_with": ["p1"],
                "outcome": "person_safe",
                "notes": "all calm",
            },
        )
    Detection(service.orders, service.views).run()

    order = client.get(o, headers=SUPERVISOR).json()
    forged_versions = {
        e["version"]
        for e in client.get(o + "/timeline", headers=PROSECUTOR).json()["items"]
        if e["event_type"] == "InspectionVisitRecorded"
    }
    assert len(forged_versions) == 3
    by_report: dict[int, set[str]] = {}
    for finding in order["findings"]:
        by_report.setdefault(finding["flagged_version"], set()).add(finding["rule"])
    assert set(by_report) == forged_versions  # every forged report, and nothing else
    for rules in by_report.values():
        # Each claims a week already alerted, before the breach and the death, with nothing to
        # show he was there; the three were entered at once, claiming visits weeks apart.
        assert rules == {"cover_up", "claims_before_incident", "batch_entry"}
    assert {f["strength"] for f in order["findings"]} == {"strong"}

    # The prosecutor's timeline: each alert was recorded before any of the reports.
    timeline = client.get(o + "/timeline", headers=PROSECUTOR).json()["items"]
    alerts = [e for e in timeline if e["event_type"] == "CheckInMissed"]
    reports = [e for e in timeline if e["event_type"] == "InspectionVisitRecorded"]
    assert len(alerts) == 3
    assert max(a["position"] for a in alerts) < min(r["position"] for r in reports)
    assert max(a["recorded_at"] for a in alerts) < min(r["recorded_at"] for r in reports)
    assert min(r["claimed_at"] for r in reports) < min(a["recorded_at"] for a in alerts)

    # A supervisor confirms a finding; the bundle for the prosecutor verifies offline.
    first = order["findings"][0]["finding_id"]
    reviewed = post(
        client,
        f"{o}/findings/{first}/review",
        {"decision": "confirmed", "reason": "no visit log, phone was off"},
        SUPERVISOR,
    )
    assert reviewed["findings"][0]["decision"] == "confirmed"
    make_checkpoint(service.orders, now=clock())
    service.views.catch_up()
    findings = verify_bundle(
        export_bundle(service.orders, service.timelines, UUID(order_id)),
        trusted_keys=[service.orders.signer.public_key()],
    ).findings
    assert all(f.holds for f in findings), [str(f) for f in findings if not f.holds]
    assert INSPECTOR  # the forger's own token filed the reports above


def test_findings_and_deaths_read_plainly_in_the_timeline(
    client: TestClient, clock: SimulatedClock, service: Service
) -> None:
    order_id = post(client, "/orders", request_json(clock()), SOCIAL_WORKER)["order_id"]
    o = f"/orders/{order_id}"
    post(
        client,
        o + "/risk-assessments",
        {"answers": {"threats_to_kill": True, "strangulation": True}},
    )
    post(
        client,
        o + "/issue",
        {
            "kind": "court",
            "conditions": ["no_contact"],
            "protected_person_ids": ["p1"],
            "inspector_id": "insp-bakyt",
            "valid_from": clock().isoformat(),
        },
    )
    clock.advance(3 * DAY)
    died_at = clock() - DAY
    post(client, o + "/deaths", {"person_id": "p1", "died_at": died_at.isoformat()}, SOCIAL_WORKER)
    clock.advance(HOUR)
    post(
        client,
        o + "/visits",
        {"visited_at": (clock() - 2 * DAY).isoformat(), "met_with": [], "outcome": "person_safe"},
    )
    service.views.catch_up()
    Detection(service.orders, service.views).run()
    service.views.catch_up()
    timeline = client.get(o + "/timeline", headers=PROSECUTOR).json()["items"]
    summaries = [e["summary"] for e in timeline]
    assert "death of protected person p1 reported" in summaries
    assert any(
        s.startswith(
            "event 5 flagged by rule claims_before_incident (strong): filed after the death of "
            f"{died_at:%Y-%m-%d %H:%M} UTC was reported"
        )
        for s in summaries
    )
