"""Admins keep the staff directory and watch the outbox; neither leaks an address or a body."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orders.clock import SimulatedClock
from orders.values import Role
from service.bootstrap import Service
from service.work import deliver_now, sweep_now
from tests.api.conftest import HIGH, SOCIAL_WORKER, bearer, issued, post
from tests.conftest import ServiceFactory
from tests.factories import request_json
from tests.receivers import MailReceiver

ADMIN = bearer("admin-1", Role.ADMIN, "*")
CANARY = "CANARY-5c1e"
PERSON_MAIL = f"{CANARY}@mail.example"
LATE = timedelta(days=7, hours=2, minutes=1)  # the first weekly check-in of a high-risk order


@pytest.fixture
def service(make_service: ServiceFactory, mail: MailReceiver) -> Service:
    return make_service(smtp_port=mail.port)


def enrol(client: TestClient, **entry: Any) -> Any:
    return client.post("/staff", json=entry, headers=ADMIN)


def test_admins_enrol_change_and_list_the_staff_directory(client: TestClient) -> None:
    made = enrol(
        client,
        staff_id="chief-nurlan",
        role="supervisor",
        districts=["Lenin", "Lenin", "Oktyabr"],
        email="nurlan@police.example",
    )
    assert made.status_code == 201, made.text
    assert made.json()["districts"] == ["Lenin", "Oktyabr"]
    assert int(made.headers["X-Log-Position"]) > 0
    enrol(client, staff_id="insp-bakyt", role="inspector", districts=["Lenin"], phone="+996 1")

    listed = client.get("/staff", headers=ADMIN).json()
    assert [m["staff_id"] for m in listed["items"]] == ["chief-nurlan", "insp-bakyt"]
    assert client.get("/staff?role=inspector", headers=ADMIN).json()["total"] == 1

    changed = client.put(
        "/staff/chief-nurlan",
        json={"role": "prosecutor", "districts": ["*"], "phone": "+996 555 000 111"},
        headers=ADMIN,
    )
    assert changed.status_code == 200, changed.text
    member = client.get("/staff/chief-nurlan", headers=ADMIN).json()
    assert (member["role"], member["districts"], member["email"], member["version"]) == (
        "prosecutor",
        ["*"],
        None,
        2,
    )
    listed = client.get("/staff", headers=ADMIN).json()["items"]
    assert listed[0]["role"] == "prosecutor"  # the read model followed


def test_an_unknown_member_is_404_and_a_second_enrolment_409(client: TestClient) -> None:
    entry = {"role": "inspector", "districts": ["Lenin"], "email": "a@police.example"}
    assert client.get("/staff/nobody", headers=ADMIN).status_code == 404
    missing = client.put("/staff/nobody", json=entry, headers=ADMIN)
    assert (missing.status_code, missing.json()["error"]) == (404, "StaffMemberNotFound")
    assert enrol(client, staff_id="insp-1", **entry).status_code == 201
    again = enrol(client, staff_id="insp-1", **entry)
    assert (again.status_code, again.json()["error"]) == (409, "StaffMemberAlreadyEnrolled")


@pytest.mark.parametrize(
    "entry",
    [
        {"role": "inspector", "districts": ["Lenin"], "email": f"not an address {CANARY}"},
        {"role": "inspector", "districts": ["Lenin"], "phone": f"call {CANARY}"},
        {"role": "inspector", "districts": ["Lenin"]},  # no way to reach them
        {"role": "system", "districts": ["Lenin"], "email": f"{CANARY}@police.example"},
        {"role": "inspector", "districts": [f"{CANARY}\x00"], "email": "a@police.example"},
        {"role": "inspector", "districts": [], "email": "a@p.example", "pager": CANARY},
    ],
)
def test_bad_staff_input_is_422_and_never_echoed(
    client: TestClient, entry: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    refused = enrol(client, staff_id="insp-1", **entry)
    assert refused.status_code == 422, refused.text
    assert CANARY not in refused.text
    changed = client.put("/staff/insp-1", json=entry, headers=ADMIN)
    assert changed.status_code == 422 and CANARY not in changed.text
    assert all(CANARY not in record.getMessage() for record in caplog.records)


def test_the_outbox_shows_delivery_state_never_an_address_or_a_body(
    client: TestClient,
    service: Service,
    mail: MailReceiver,
    clock: SimulatedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    enrol(client, staff_id="insp-bakyt", role="inspector", districts=["Lenin"], email="b@p.example")
    order = post(client, "/orders", request_json(clock()), SOCIAL_WORKER)["order_id"]
    post(
        client,
        f"/orders/{order}/contacts",
        {"person_id": "p1", "channel": "email", "address": PERSON_MAIL},
        SOCIAL_WORKER,
    )
    mail.refuse.add(PERSON_MAIL)  # her provider refuses it for good: the refusal quotes it
    post(client, f"/orders/{order}/risk-assessments", {"answers": HIGH})
    post(
        client,
        f"/orders/{order}/issue",
        {
            "kind": "court",
            "conditions": ["no_contact"],
            "protected_person_ids": ["p1"],
            "inspector_id": "insp-bakyt",
            "valid_from": clock().isoformat(),
        },
    )
    client.get("/notifications", headers=ADMIN)  # the outbox has seen the issue: news, not stale
    clock.advance(LATE)
    sweep_now(service)
    service.views.catch_up()
    report = deliver_now(service)
    assert (report.delivered, report.undeliverable) == (2, 1)  # her notice of issue refused

    page = client.get("/notifications", headers=ADMIN).json()
    assert page["total"] == 3
    refused = next(i for i in page["items"] if i["topic"] == "issued")
    assert refused["status"] == "undeliverable"
    assert refused["last_error"] == "SMTPRecipientsRefused"
    assert refused["key"].startswith(f"{order}:") and ":contact:" in refused["key"]
    raised = [i for i in page["items"] if i["topic"] == "alert_raised"]
    assert {(i["kind"], i["channel"], i["status"], i["attempts"]) for i in raised} == {
        ("missed_check_in", "email", "delivered", 1),
        ("reassessment_overdue", "email", "delivered", 1),
    }
    delivered = client.get("/notifications?status=delivered&limit=1", headers=ADMIN).json()
    assert (delivered["total"], len(delivered["items"]), delivered["next_offset"]) == (2, 1, 1)
    assert CANARY not in client.get("/notifications", headers=ADMIN).text
    assert "payload" not in page["items"][0]  # never the body
    assert all(CANARY not in record.getMessage() for record in caplog.records)


def test_what_nobody_can_be_told_and_what_waits_show_in_health(
    client: TestClient, service: Service, mail: MailReceiver, clock: SimulatedClock
) -> None:
    issued(client, clock, kind="court")  # its inspector is in no directory
    clock.advance(LATE)
    sweep_now(service)
    service.views.catch_up()
    health = client.get("/health").json()["deliveries"]
    assert health["undeliverable"] == 2  # a missed check-in and a reassessment
    assert health["pending"] == 0 and health["oldest_pending_seconds"] is None

    enrol(client, staff_id="insp-bakyt", role="inspector", districts=["Lenin"], email="b@p.example")
    mail.stop()  # the mail server is down when the next alerts fall due
    clock.advance(timedelta(days=7))
    sweep_now(service)
    service.views.catch_up()
    deliver_now(service)
    clock.advance(timedelta(seconds=30))
    health = client.get("/health").json()["deliveries"]
    assert health["pending"] == health["failing"] > 0
    assert health["oldest_pending_seconds"] == 30.0
