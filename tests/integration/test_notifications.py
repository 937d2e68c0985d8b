"""Notifications that leave the building: alerts raised by the real sweep reach real receivers.

A real SMTP server (aiosmtpd) and a real HTTP endpoint that checks each webhook's HMAC and
timestamp are started on local ports; only the clock is simulated. Each test runs on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from notifications.channels import message_id
from orders.alerting import AlertKind
from orders.commands import (
    AcknowledgeAlert,
    RecordService,
    RegisterContact,
    RevokeOrder,
    WithdrawContact,
)
from orders.commands.staff import EnrolStaff, StaffEntry
from orders.directory import Directory
from orders.values import Actor, OrderKind, Role, ServiceMethod
from scheduler.jobs import start_scheduler
from service.bootstrap import Service
from service.work import deliver_now, jobs, sweep_now
from tests.conftest import ServiceFactory
from tests.factories import (
    INSPECTOR,
    SOCIAL_WORKER,
    SUPERVISOR,
    an_assessment,
    issue_order,
    request_order,
)
from tests.integration.helpers import issued_order
from tests.receivers import WEBHOOK_SECRET, MailReceiver, WebhookReceiver

ADMIN = Actor("admin-1", Role.ADMIN)
INSPECTOR_MAIL = "bakyt@police.example"
SUPERVISOR_MAIL = "nurlan@police.example"
SUPERVISOR_PHONE = "+996 555 000 111"
PROSECUTOR_MAIL = "pros@prokuratura.example"
PERSON_MAIL = "aizada.private@mail.example"
PERSON_PHONE = "+996 700 123 456"
NOTE = "NOTE-CANARY: I will visit her at the shelter tomorrow"
NEVER_SENT = (NOTE, "kitchen", "Ruslan", "Shelter")  # a note, the narrative, the respondent

WEEK = timedelta(days=7)
GRACE = timedelta(hours=2)
LATE = WEEK + GRACE + timedelta(minutes=1)  # a high-risk order's first check-in missed


@pytest.fixture
def notifying(
    make_service: ServiceFactory, mail: MailReceiver, webhook: WebhookReceiver
) -> Service:
    """A service whose outbox goes to the local receivers, with Lenin's staff enrolled."""
    service = make_service(
        smtp_port=mail.port, webhook_url=webhook.url, webhook_secret=WEBHOOK_SECRET
    )
    enrol(service, "insp-bakyt", "inspector", email=INSPECTOR_MAIL)
    enrol(service, "chief-nurlan", "supervisor", email=SUPERVISOR_MAIL, phone=SUPERVISOR_PHONE)
    enrol(service, "pros-region", "prosecutor", email=PROSECUTOR_MAIL, districts=("*",))
    enrol(service, "chief-other", "supervisor", email="other@police.example", districts=("Osh",))
    return service


def enrol(service: Service, staff_id: str, role: str, **entry: Any) -> None:
    districts = list(entry.pop("districts", ("Lenin",)))
    command = EnrolStaff(staff_id=staff_id, role=role, districts=districts, **entry)  # type: ignore[arg-type]
    Directory(service.orders).enrol(command, by=ADMIN)


def sweep(service: Service) -> None:
    service.views.catch_up()  # the follower's part, which `serve` runs in its own thread
    sweep_now(service)


def deliver(service: Service) -> int:
    service.views.catch_up()
    return deliver_now(service).delivered


def about(mails: list[Any], kind: str) -> list[Any]:
    return [m for m in mails if kind in m.message["Subject"]]


def outbox(service: Service, **where: str) -> list[dict[str, Any]]:
    rows = service.views.db.query("SELECT * FROM outbox ORDER BY position, key")
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def test_a_missed_check_in_reaches_the_inspector_climbs_to_the_supervisor_and_its_acknowledgement_reaches_both(  # noqa: E501
    notifying: Service,
    mail: MailReceiver,
    webhook: WebhookReceiver,
    clock: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    service, start = notifying, clock()
    order_id = issued_order(service.orders, kind=OrderKind.COURT)  # high risk: weekly
    clock.advance(LATE)
    sweep(service)
    deliver(service)

    (raised,) = about(mail.to(INSPECTOR_MAIL), "missed check-in")
    key = raised.key
    assert key.startswith(f"{order_id}:") and key.endswith(":staff:insp-bakyt:email")
    assert raised.message["Message-ID"] == message_id(key)  # the same on every attempt
    deadline = start + WEEK + GRACE
    assert f"Acknowledge by: {deadline + timedelta(hours=4):%Y-%m-%d %H:%M} UTC" in raised.text
    assert about(mail.to(SUPERVISOR_MAIL), "missed check-in") == []  # not yet: rung 1 only
    assert webhook.received == []

    clock.advance(timedelta(hours=4))  # nobody acknowledged: it climbs
    sweep(service)
    deliver(service)
    (climbed,) = about(mail.to(SUPERVISOR_MAIL), "missed check-in")
    assert "(rung 2)" in climbed.message["Subject"]
    sms = [h for h in webhook.received if h.body["message"]["kind"] == "missed_check_in"]
    assert [(h.body["to"], h.body["message"]["rung"]) for h in sms] == [(SUPERVISOR_PHONE, 2)]
    assert about(mail.to(PROSECUTOR_MAIL), "missed check-in") == []
    assert mail.to("other@police.example") == []  # another district's supervisor

    order = service.orders.get(order_id)
    (alert,) = order.duties.alerts_about(AlertKind.MISSED_CHECK_IN)
    acknowledge = AcknowledgeAlert(alert_id=alert.alert_id, note=NOTE)
    service.orders.handle(acknowledge, order_id, by=SUPERVISOR)
    deliver(service)
    assert len(about(mail.to(INSPECTOR_MAIL), "Taken up: a missed check-in")) == 1
    assert len(about(mail.to(SUPERVISOR_MAIL), "Taken up: a missed check-in")) == 1
    assert [
        h.body["message"]["topic"]
        for h in webhook.received
        if h.body["message"]["kind"] == "missed_check_in"
    ] == [
        "alert_climbed",
        "alert_acknowledged",
    ]

    everything = [m.text for m in mail.received] + [json.dumps(h.body) for h in webhook.received]
    for sent in everything:
        assert not any(secret in sent for secret in NEVER_SENT), sent
    for record in caplog.records:
        said = record.getMessage()
        assert not any(a in said for a in (INSPECTOR_MAIL, SUPERVISOR_MAIL, SUPERVISOR_PHONE, NOTE))


def test_a_channel_down_for_ten_minutes_loses_nothing_and_each_key_arrives_once_after_dedup(
    notifying: Service, mail: MailReceiver, webhook: WebhookReceiver, clock: Any
) -> None:
    service = notifying
    Directory(service.orders).change(  # the inspector is told by e-mail and SMS
        "insp-bakyt",
        StaffEntry(role="inspector", districts=["Lenin"], email=INSPECTOR_MAIL, phone="+996 1"),
        by=ADMIN,
    )
    for _ in range(3):
        issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(LATE)
    sweep(service)
    mail.stop()  # the SMTP server is down
    webhook.failing = 2  # and the gateway answers 503 twice, after reading the message
    deliver(service)
    emails = [r["key"] for r in outbox(service, channel="email")]
    hooks = [r["key"] for r in outbox(service, channel="webhook")]
    assert len(emails) == len(hooks) == 6  # three orders: a missed check-in, a reassessment
    assert {r["last_error"] for r in outbox(service, channel="email")} == {"ConnectionRefusedError"}
    assert service.outbox.backlog().failing == 6 + 2
    assert deliver_now(service).settled == 0  # each waits for its next try

    for _ in range(10):  # ten minutes down
        clock.advance(timedelta(minutes=1))
        deliver(service)
    attempts = {r["attempts"] for r in outbox(service, channel="email")}
    assert max(attempts) <= 7  # backed off: 10 s, 20 s, 40 s ... not once a minute
    assert service.outbox.backlog().pending == 6

    mail.start()  # up again
    clock.advance(timedelta(minutes=5))  # past the longest backoff
    deliver(service)
    assert {r["status"] for r in outbox(service)} == {"delivered"}
    assert sorted(mail.keys()) == sorted(emails)  # each e-mail once: none lost, none twice
    assert set(webhook.deduplicated()) == set(hooks)  # none lost
    retried = [k for k in set(webhook.keys()) if webhook.keys().count(k) > 1]
    assert len(retried) == 2  # the receiver saw the same key again: it drops the repeat
    assert service.outbox.backlog() == service.outbox.backlog().__class__(0, 0, 0, 0, 0, None)


def test_a_person_who_consented_is_told_and_after_withdrawing_is_told_nothing(
    notifying: Service, mail: MailReceiver, webhook: WebhookReceiver, clock: Any
) -> None:
    service, orders = notifying, notifying.orders
    order_id = orders.handle(request_order(clock()), by=SOCIAL_WORKER).order.id
    by_mail = orders.handle(
        RegisterContact(person_id="p1", channel="email", address=PERSON_MAIL),
        order_id,
        by=SOCIAL_WORKER,
    ).ref
    orders.handle(
        RegisterContact(person_id="p1", channel="sms", address=PERSON_PHONE),
        order_id,
        by=SOCIAL_WORKER,
    )
    orders.handle(an_assessment(), order_id, by=SOCIAL_WORKER)
    orders.handle(issue_order(clock()), order_id, by=SUPERVISOR)
    deliver(service)
    (issued,) = mail.to(PERSON_MAIL)
    assert issued.message["Subject"] == "Your protection order was issued"
    assert f"Valid from: {clock():%Y-%m-%d %H:%M} UTC" in issued.text
    assert [h.body["to"] for h in webhook.received] == [PERSON_PHONE]
    assert webhook.received[0].body["message"]["state"] == "issued"

    clock.advance(timedelta(hours=1))
    orders.handle(
        RecordService(served_at=clock(), method=ServiceMethod.IN_PERSON, notes="Ruslan at home"),
        order_id,
        by=INSPECTOR,
    )
    service.views.catch_up()  # the message about service waits in the outbox ...
    assert by_mail is not None
    orders.handle(WithdrawContact(contact_id=by_mail), order_id, by=SOCIAL_WORKER)
    orders.handle(RevokeOrder(reason="she asked"), order_id, by=SUPERVISOR)
    deliver(service)  # ... and is dropped: she withdrew before it went out

    assert mail.to(PERSON_MAIL) == [issued]
    assert [h.body["message"]["state"] for h in webhook.received] == ["issued", "served", "revoked"]
    to_her_mail = outbox(service, recipient=f"contact:{by_mail}")
    assert [(r["topic"], r["status"]) for r in to_her_mail] == [
        ("issued", "delivered"),
        ("served", "withdrawn"),
    ]  # and nothing at all for the revocation, recorded after she withdrew
    for sent in [json.dumps(h.body) for h in webhook.received] + [issued.text]:
        assert "Ruslan" not in sent and "kitchen" not in sent
    for table in _view_tables(service):  # no view holds her addresses in plaintext
        rows = str(service.views.db.query(f"SELECT * FROM {table}"))
        assert PERSON_MAIL not in rows and PERSON_PHONE not in rows, table


def test_a_rebuild_of_the_read_models_sends_nothing_again(
    notifying: Service, mail: MailReceiver, clock: Any
) -> None:
    service = notifying
    issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(LATE)
    sweep(service)
    assert deliver(service) == 2
    before = outbox(service)
    service.views.rebuild()
    assert deliver(service) == 0
    assert outbox(service) == before
    assert len(mail.received) == 2
    assert [m["staff_id"] for m in service.staff.page(role=None, limit=10, offset=0)[0]] == [
        "chief-nurlan",
        "chief-other",
        "insp-bakyt",
        "pros-region",
    ]


def test_a_rebuild_makes_the_messages_the_outbox_had_not_reached_and_only_those(
    notifying: Service, clock: Any
) -> None:
    service = notifying
    order_id = issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(LATE)
    sweep(service)
    service.views.catch_up()  # the alert's messages, in the outbox
    held = outbox(service)
    assert held
    probe = held[0]["key"]  # taken out behind the view's back: a rebuild that made the
    with service.views.db.transaction() as tx:  # messages again would put it back
        tx.execute("DELETE FROM outbox WHERE key = ?", (probe,))
    acknowledge = AcknowledgeAlert(alert_id=_alert_id(held[0]), note="on it")
    service.orders.handle(acknowledge, order_id, by=SUPERVISOR)  # not yet applied by the views

    service.views.rebuild()

    after = outbox(service)
    assert probe not in {r["key"] for r in after}
    assert [r for r in after if r["key"] in {h["key"] for h in held}] == held[1:]
    acknowledged = [r for r in after if r["topic"] == "alert_acknowledged"]
    assert acknowledged, "the acknowledgement, after where the outbox was, is told"
    assert {r["recipient"] for r in acknowledged} >= {"staff:insp-bakyt"}


def _alert_id(row: dict[str, Any]) -> UUID:
    return UUID(json.loads(row["payload"])["alert_id"])


def test_an_alert_nobody_can_be_told_is_recorded_undeliverable_never_lost(
    make_service: ServiceFactory, mail: MailReceiver, clock: Any
) -> None:
    service = make_service(smtp_port=mail.port)
    enrol(service, "chief-osh", "supervisor", email="osh@police.example", districts=("Osh",))
    issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(LATE + timedelta(hours=4))  # raised, and climbed to Lenin's supervisor
    sweep(service)
    deliver(service)
    assert mail.received == []
    assert {(r["recipient"], r["last_error"]) for r in outbox(service)} == {
        ("inspector", "NotInDirectory"),
        ("supervisor", "NobodyToTell"),
    }
    assert service.outbox.backlog().undeliverable == 4  # two alerts, two rungs each


def test_news_older_than_the_outbox_is_never_sent(
    notifying: Service, mail: MailReceiver, clock: Any
) -> None:
    service, orders = notifying, notifying.orders
    order_id = orders.handle(request_order(clock()), by=SOCIAL_WORKER).order.id
    orders.handle(
        RegisterContact(person_id="p1", channel="email", address=PERSON_MAIL),
        order_id,
        by=SOCIAL_WORKER,
    )
    orders.handle(an_assessment(), order_id, by=SOCIAL_WORKER)
    orders.handle(issue_order(clock()), order_id, by=SUPERVISOR)
    clock.advance(timedelta(days=3))  # the outbox first sees the issue three days late
    deliver(service)
    assert mail.received == []
    assert [(r["topic"], r["status"]) for r in outbox(service)] == [("issued", "stale")]


def test_two_workers_at_once_send_each_message_once(
    notifying: Service, make_service: ServiceFactory, mail: MailReceiver, clock: Any
) -> None:
    for _ in range(8):
        issued_order(notifying.orders, kind=OrderKind.COURT)
    clock.advance(LATE)
    sweep(notifying)
    notifying.views.catch_up()
    workers = [make_service(smtp_port=mail.port) for _ in range(2)]  # as two processes
    barrier = threading.Barrier(len(workers))
    delivered: list[int] = []

    def work(service: Service) -> None:
        barrier.wait()
        delivered.append(deliver_now(service).delivered)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(delivered) == 16
    assert len(mail.keys()) == len(set(mail.keys())) == 16


def test_the_scheduler_delivers_on_its_interval(
    make_service: ServiceFactory, mail: MailReceiver, clock: Any
) -> None:
    service = make_service(smtp_port=mail.port, deliver_seconds=0.05)
    enrol(service, "insp-bakyt", "inspector", email=INSPECTOR_MAIL)
    issued_order(service.orders, kind=OrderKind.COURT)
    clock.advance(LATE)
    service.views.start(interval=0.05)  # the follower, beside the scheduler as in serve
    scheduler = start_scheduler(
        service.orders, service.views, service.deadlines, every_seconds=0.1, jobs=jobs(service)
    )
    try:
        _wait_for(lambda: len(mail.to(INSPECTOR_MAIL)) >= 2)
    finally:
        scheduler.shutdown(wait=True)
        service.views.stop()
    assert len(about(mail.to(INSPECTOR_MAIL), "missed check-in")) == 1


def _wait_for(condition: Any, seconds: float = 10) -> None:
    done = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("timed out")


def _view_tables(service: Service) -> list[str]:
    return [t for p in service.views.projections for t in p.table_names()]
