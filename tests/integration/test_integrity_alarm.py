"""A log that does not verify is an alarm that reaches the admins, not a line in a log file.

Both engines; a real SMTP server; the checkpoint job as the scheduler runs it.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from orders.clock import SimulatedClock
from service.bootstrap import Service
from service.checkpoints import CheckpointRefused
from service.work import checkpoint_now, deliver_now, jobs
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order
from tests.integration.test_notifications import enrol
from tests.receivers import MailReceiver
from tests.tampering import edit_state, events_table, sql

ADMIN_MAIL = "it-security@ministry.example"


@pytest.fixture
def watched(make_service: ServiceFactory, mail: MailReceiver, clock: SimulatedClock) -> Service:
    """A service with an admin in its directory, an order with visits, a checkpoint over it."""
    service = make_service(smtp_port=mail.port)
    enrol(service, "admin-aigul", "admin", email=ADMIN_MAIL, districts=("*",))
    order_id = issued_order(service.orders)
    for _ in range(2):
        clock.advance(timedelta(hours=3))
        service.orders.handle(
            a_visit_command(clock(), notes="NOTE-CANARY shelter"), order_id, by=INSPECTOR
        )
    assert checkpoint_now(service) is not None
    service.views.catch_up()
    return service


def test_a_refused_checkpoint_is_an_alarm_e_mailed_to_the_admins_once_an_hour(
    watched: Service, database_url: str, mail: MailReceiver, clock: SimulatedClock
) -> None:
    service = watched
    (row,) = sql(
        database_url,
        f"SELECT originator_id FROM {events_table(database_url)} WHERE originator_version = 5",
    )
    order_id = UUID(str(row[0]))
    clock.advance(timedelta(minutes=5))
    service.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)  # something new
    edit_state(database_url, order_id, 6, old=b'"person_safe"', new=b'"person_not_found"')
    with pytest.raises(CheckpointRefused, match=f"order {order_id} event 6"):
        checkpoint_now(service)
    checkpoint_job = next(job for job in jobs(service) if job.name == "checkpoint")
    for _ in range(3):  # the scheduler keeps trying: one alarm, not one every few seconds
        clock.advance(timedelta(seconds=5))
        with pytest.raises(CheckpointRefused):
            checkpoint_job.run()
    assert len(service.orders.records.select_checkpoint_refusals()) == 1
    service.views.catch_up()
    deliver_now(service)
    (sent,) = mail.received
    assert sent.to == [ADMIN_MAIL]
    assert sent.message["Subject"] == "Integrity alarm: checkpoint refused"
    assert f"order {order_id} event 6 (InspectionVisitRecorded)" in sent.text
    assert "verify-store" in sent.text
    assert "NOTE-CANARY" not in sent.text and "shelter" not in sent.text
    clock.advance(timedelta(hours=1))  # still not mended an hour later: told again
    with pytest.raises(CheckpointRefused):
        checkpoint_now(service)
    service.views.catch_up()
    deliver_now(service)
    assert len(mail.to(ADMIN_MAIL)) == 2
    assert len(service.orders.records.select_checkpoint_refusals()) == 2
