"""Proof of presence: a code that does not prove the visit is a finding; a damaged vault
stops no visit and is named."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pyotp

from orders.clock import SimulatedClock
from orders.commands import EnrolPresenceProof, NewProof
from orders.events import InspectionVisitRecorded
from orders.presence import ProofKind, Verdict
from orders.values import Visit
from scheduler.detection import Detection
from service.bootstrap import Service
from service.integrity import verify_store
from tests import tampering
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, LOW_RISK_ANSWERS, SOCIAL_WORKER, a_visit_command
from tests.integration.helpers import issued_order


def enrolled(service: Service, order_id: UUID) -> NewProof:
    outcome = service.orders.handle(
        EnrolPresenceProof(person_id="p1", kind=ProofKind.APP), order_id, by=SOCIAL_WORKER
    )
    assert isinstance(outcome.returned, NewProof)
    return outcome.returned


def visits(service: Service, order_id: UUID) -> list[Visit]:
    """The order's visit reports, as its events recorded them (the order keeps none)."""
    return [
        e.visit
        for e in service.orders.events.get(order_id)
        if isinstance(e, InspectionVisitRecorded)
    ]


def verdicts(service: Service, order_id: UUID) -> list[str]:
    return [str(v.proof.verdict) for v in visits(service, order_id) if v.proof]


def test_a_code_that_is_not_hers_is_a_finding(service: Service, clock: SimulatedClock) -> None:
    """Decision 019: out_of_time, reused, revoked and wrong are "findings in their own right"
    (Verdict.is_finding). No detector reads the verdict: on an order below high risk a report
    with a wrong code, or with her code replayed, raises nothing at all."""
    order_id = issued_order(service.orders, answers=LOW_RISK_ANSWERS)
    totp = pyotp.TOTP(enrolled(service, order_id).secret)
    clock.advance(timedelta(hours=2))
    at = clock() - timedelta(minutes=10)
    service.orders.handle(a_visit_command(at, proof_code=totp.at(at)), order_id, by=INSPECTOR)
    service.orders.handle(
        a_visit_command(at + timedelta(minutes=5), proof_code=totp.at(at)), order_id, by=INSPECTOR
    )  # her code, given again for a visit five minutes later
    clock.advance(timedelta(hours=30))
    forged = clock() - timedelta(minutes=10)
    service.orders.handle(
        a_visit_command(forged, proof_code="000000"), order_id, by=INSPECTOR
    )  # typed any code
    assert verdicts(service, order_id) == ["proven", "reused", "wrong"]
    service.views.catch_up()
    Detection(service.orders, service.views).run()
    flagged = {f.flagged_version for f in service.orders.get(order_id).scrutiny.findings}
    assert {6, 7} <= flagged, "a replayed and a wrong code raised no finding"


def test_a_damaged_vault_row_does_not_stop_visits_from_being_recorded(
    make_service: ServiceFactory, clock: SimulatedClock, database_url: str
) -> None:
    """The vault decrypts every secret of the order for each visit with a code; one row that
    does not decrypt (altered, or moved from another proof) raised InvalidTag, and no visit
    with a code could be recorded on that order any more (a 500 over HTTP): a crash on damaged
    data, and an insider's way to stop proven visits. A process that reads the damaged row
    records the visit, its code unverifiable; the process that kept the secret goes on
    checking codes against the secret it kept (decision 026). verify-store names the row."""
    service = make_service()
    order_id = issued_order(service.orders)
    proof = enrolled(service, order_id)
    with tampering.insider(database_url) as run:
        ((sealed,),) = run("SELECT sealed FROM presence_secrets")
        run("UPDATE presence_secrets SET sealed = %s", (sealed[:-4] + "AAA=",))
    clock.advance(timedelta(hours=2))
    other = make_service()  # has not seen her secret: reads the damaged row
    other.orders.handle(a_visit_command(clock(), proof_code="123456"), order_id, by=INSPECTOR)
    clock.advance(timedelta(hours=2))
    code = pyotp.TOTP(proof.secret).at(clock())
    service.orders.handle(a_visit_command(clock(), proof_code=code), order_id, by=INSPECTOR)
    first, second = visits(service, order_id)
    assert first.proof is not None and first.proof.verdict is Verdict.UNVERIFIABLE
    assert second.proof is not None and second.proof.verdict is Verdict.PROVEN
    assert any(
        "is missing from the vault or does not decrypt" in str(f)
        for f in verify_store(service.orders)
        if not f.holds
    )
