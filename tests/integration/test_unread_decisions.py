"""Decision 026: a command on an order this process wrote last is decided on the order as it
wrote it, without reading it again. Its save is stored only if nobody wrote after it and the
store still holds the order's last event as this process sealed it; otherwise the command is
decided again on the order read. A refusal on the unread order stands only if the order read
is unchanged."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

import pyotp
import pytest

from orders import errors
from orders.clock import SimulatedClock
from orders.commands import EnrolPresenceProof, NewProof, RevokeOrder
from orders.presence import ProofKind, Verdict
from orders.records import CommandKey
from orders.values import Status
from service.bootstrap import Service, bootstrap
from service.integrity import verify_store
from service.settings import Settings
from tests import tampering
from tests.conftest import ServiceFactory
from tests.factories import (
    INSPECTOR,
    SOCIAL_WORKER,
    SUPERVISOR,
    a_visit_command,
    an_assessment,
    issue_order,
    request_order,
)
from tests.integration.helpers import issued_order
from tests.integration.test_database_roles import owner_url, service_url  # noqa: F401
from tests.integration.test_recent_orders import a_breach, replayed, state


def names(service: Service, order_id: UUID) -> list[str]:
    return [type(e).__name__ for e in service.orders.repository.event_store.get(order_id)]


def chains_hold(service: Service) -> None:
    broken = [str(f) for f in verify_store(service.orders) if not f.holds]
    assert not broken, broken


def test_a_command_on_an_order_this_process_wrote_last_reads_nothing_before_its_save(
    owner_url: str,  # noqa: F811
    service_url: str,  # noqa: F811
    clock: SimulatedClock,
) -> None:
    """PostgreSQL with two roles: the service's role loses the right to read the events'
    states and the command keys. A command, with a key, on an order it wrote last is still
    stored (one statement: it reads neither); its repeat must read the key, and one on an
    order another process wrote last must read the order: both are refused."""
    settings = Settings(database_url=service_url, owner_database_url=owner_url)
    mine, theirs = bootstrap(settings, clock=clock), bootstrap(settings, clock=clock)
    try:
        written_here = issued_order(mine.orders)
        written_there = issued_order(theirs.orders)
        mine.orders.get(written_there)  # kept here too, but written last by the other
        role = service_url.split("//")[1].split("@")[0]
        tampering.sql(owner_url, f"REVOKE SELECT ON orders_events FROM {role}")
        tampering.sql(owner_url, f"GRANT SELECT (notification_id) ON orders_events TO {role}")
        tampering.sql(owner_url, f"REVOKE SELECT ON command_keys FROM {role}")
        clock.advance(timedelta(hours=1))
        key = CommandKey(INSPECTOR.id, "visit-1", "fingerprint")
        visit = a_visit_command(clock())
        outcome = mine.orders.handle(visit, written_here, by=INSPECTOR, key=key)
        assert outcome.order.version == 4 and outcome.position is not None
        with pytest.raises(Exception, match="permission denied"):  # a repeat reads the key
            mine.orders.handle(visit, written_here, by=INSPECTOR, key=key)
        with pytest.raises(Exception, match="permission denied"):
            mine.orders.handle(a_visit_command(clock()), written_there, by=INSPECTOR)
        tampering.sql(owner_url, f"GRANT SELECT ON orders_events, command_keys TO {role}")
        again = mine.orders.handle(visit, written_here, by=INSPECTOR, key=key)
        assert again.order.version == 4  # the first's outcome: nothing stored twice
        assert state(mine.orders.get(written_here)) == state(replayed(mine, written_here))
        assert mine.orders.get(written_there).version == 3
    finally:
        mine.close()
        theirs.close()


def test_a_command_meeting_another_process_write_is_decided_again_on_the_order_read(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    """The other process revoked the order this one wrote last: a revocation here, accepted
    on the order as this one wrote it, meets that one and is refused on the order read."""
    mine, theirs = make_service(), make_service()
    order_id = issued_order(mine.orders)
    clock.advance(timedelta(hours=1))
    revocation = RevokeOrder(reason="Withdrawn by the court.")
    theirs.orders.handle(revocation, order_id, by=SUPERVISOR)
    with pytest.raises(errors.OrderNotInForce):
        mine.orders.handle(revocation, order_id, by=SUPERVISOR)
    assert names(mine, order_id)[3:] == ["Revoked"]
    assert mine.orders.get(order_id).status is Status.REVOKED
    chains_hold(mine)


def test_a_refusal_on_the_order_as_this_process_wrote_it_is_checked_on_the_order_read(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    """This process opened the order; another assessed and issued it. A visit, refused on
    the order as this one wrote it (only requested), is accepted on the order read."""
    mine, theirs = make_service(), make_service()
    order_id = mine.orders.handle(request_order(clock()), by=SOCIAL_WORKER).order.id
    theirs.orders.handle(an_assessment(), order_id, by=INSPECTOR)
    theirs.orders.handle(issue_order(clock()), order_id, by=INSPECTOR)
    clock.advance(timedelta(hours=1))
    outcome = mine.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    assert outcome.order.version == 4
    assert names(mine, order_id)[3:] == ["InspectionVisitRecorded"]
    chains_hold(mine)


def test_a_pinned_version_is_compared_with_the_order_read_when_the_one_written_differs(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    """A caller who saw the other process's write pins its version: the order as this
    process wrote it is older, so the order is read, and the command stored."""
    mine, theirs = make_service(), make_service()
    order_id = issued_order(mine.orders)
    clock.advance(timedelta(hours=1))
    theirs.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    outcome = mine.orders.handle(a_breach(clock), order_id, by=INSPECTOR, expected_version=4)
    assert outcome.order.version == 5
    with pytest.raises(errors.VersionMismatch):  # and a version pinned too low still fails
        mine.orders.handle(a_breach(clock), order_id, by=INSPECTOR, expected_version=4)


def test_a_repeat_refused_now_that_the_first_was_done_returns_the_first_outcome(
    service: Service, clock: SimulatedClock
) -> None:
    """The key is not looked up before deciding: a repeated revocation is refused (the order
    is revoked already, by the first), and answered with the first's outcome."""
    order_id = issued_order(service.orders)
    clock.advance(timedelta(hours=1))
    key = CommandKey(SUPERVISOR.id, "revoke-1", "fingerprint")
    revocation = RevokeOrder(reason="Withdrawn by the court.")
    first = service.orders.handle(revocation, order_id, by=SUPERVISOR, key=key)
    clock.advance(timedelta(minutes=5))
    again = service.orders.handle(revocation, order_id, by=SUPERVISOR, key=key)
    assert (again.order.version, again.order.status) == (first.order.version, Status.REVOKED)
    with pytest.raises(errors.OrderNotInForce):  # without the key, it is refused
        service.orders.handle(revocation, order_id, by=SUPERVISOR)
    other = CommandKey(SUPERVISOR.id, "revoke-1", "another request")
    with pytest.raises(errors.InvalidInput):  # the key of another request
        service.orders.handle(revocation, order_id, by=SUPERVISOR, key=other)
    assert names(service, order_id)[3:] == ["Revoked"]


def test_a_repeated_enrolment_keeps_one_secret(service: Service, clock: SimulatedClock) -> None:
    """A command that keeps something beside the order as it decides (her secret, in the
    vault) looks its key up first: a repeat keeps no second secret."""
    order_id = issued_order(service.orders)
    key = CommandKey(SOCIAL_WORKER.id, "enrol-1", "fingerprint")
    enrol = EnrolPresenceProof(person_id="p1", kind=ProofKind.APP)
    first = service.orders.handle(enrol, order_id, by=SOCIAL_WORKER, key=key)
    again = service.orders.handle(enrol, order_id, by=SOCIAL_WORKER, key=key)
    assert isinstance(first.returned, NewProof) and again.ref == first.ref
    assert list(service.orders.vault.secrets(order_id)) == [first.returned.proof_id]


@pytest.mark.parametrize("refilled", [False, True], ids=["removed", "replaced"])
def test_a_store_put_back_behind_the_process_refuses_the_save_and_the_chain_stays_whole(
    make_service: ServiceFactory,
    clock: SimulatedClock,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    refilled: bool,
) -> None:
    """The order's last event, written here, is gone from the store (and, replaced, another
    process wrote another in its place). A command decided on the order as this process
    wrote it would chain its seal on an event the store no longer holds: its save is
    refused, nothing of it stays, and it is decided again on the order as stored."""
    mine = make_service()
    order_id = issued_order(mine.orders)
    clock.advance(timedelta(hours=1))
    visited = mine.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR).order
    tampering.delete_event(database_url, order_id, visited.version, with_seal=True)
    if refilled:
        make_service().orders.handle(a_breach(clock), order_id, by=INSPECTOR)
    clock.advance(timedelta(hours=1))
    with caplog.at_level(logging.WARNING, logger="storage.records"):
        outcome = mine.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)
    assert f"{order_id} not stored as this process sealed them" in caplog.text
    assert outcome.order.version == visited.version + (1 if refilled else 0)
    assert state(outcome.order) == state(replayed(mine, order_id))
    assert names(mine, order_id)[3:] == [
        *(["BreachReported"] if refilled else []),
        "InspectionVisitRecorded",
    ]
    chains_hold(mine)


def enrolled(service: Service, order_id: UUID) -> pyotp.TOTP:
    enrol = EnrolPresenceProof(person_id="p1", kind=ProofKind.APP)
    proof = service.orders.handle(enrol, order_id, by=SOCIAL_WORKER).returned
    assert isinstance(proof, NewProof)
    return pyotp.TOTP(proof.secret)


def verdict(service: Service, order_id: UUID) -> Verdict:
    last = list(service.orders.repository.event_store.get(order_id))[-1]
    return last.visit.proof.verdict  # type: ignore[attr-defined, no-any-return]


def test_a_visit_code_is_checked_on_secrets_this_process_has_seen_without_reading_them(
    owner_url: str,  # noqa: F811
    service_url: str,  # noqa: F811
    clock: SimulatedClock,
) -> None:
    """The vault is only added to: with its role's right to read the vault revoked, a
    PostgreSQL service still proves a visit by a code of a secret it kept itself."""
    service = bootstrap(
        Settings(database_url=service_url, owner_database_url=owner_url), clock=clock
    )
    try:
        order_id = issued_order(service.orders)
        totp = enrolled(service, order_id)
        role = service_url.split("//")[1].split("@")[0]
        tampering.sql(owner_url, f"REVOKE SELECT ON presence_secrets FROM {role}")
        clock.advance(timedelta(hours=1))
        visit = a_visit_command(clock(), proof_code=totp.at(clock()))
        service.orders.handle(visit, order_id, by=INSPECTOR)
        assert verdict(service, order_id) is Verdict.PROVEN
    finally:
        service.close()


def test_a_code_of_a_secret_another_process_kept_is_checked_on_the_vault_read(
    make_service: ServiceFactory, clock: SimulatedClock
) -> None:
    """This process saw her first secret; another enrolled her again. Her code from the new
    secret is checked on the vault read, not on the secrets seen here (which lack it)."""
    mine, theirs = make_service(), make_service()
    order_id = issued_order(mine.orders)
    first = enrolled(mine, order_id)
    clock.advance(timedelta(hours=1))
    mine.orders.handle(
        a_visit_command(clock(), proof_code=first.at(clock())), order_id, by=INSPECTOR
    )
    assert verdict(mine, order_id) is Verdict.PROVEN
    second = enrolled(theirs, order_id)
    clock.advance(timedelta(hours=1))
    mine.orders.handle(
        a_visit_command(clock(), proof_code=second.at(clock())), order_id, by=INSPECTOR
    )
    assert verdict(mine, order_id) is Verdict.PROVEN
