"""A snapshot keeps an order exactly: every attribute survives the store's JSON transcoder
with its type; one of another shape of state is refused; its mark holds only as written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pyotp
import pytest
from eventsourcing.persistence import StoredEvent

from orders.alerting import ContactChannel
from orders.domain import ProtectionOrder
from orders.policy import load_policy
from orders.presence import CodesGiven, PresenceProof, ProofKind, UsedCodes, new_secret
from orders.snapshots import KEPT, StaleSnapshot, marked, unmarked
from orders.transcoding import TypedMapper, transcoder
from orders.values import Actor, Decision, EscalationTarget, OrderKind, Role, Strength
from tests.factories import INSPECTOR, SOCIAL_WORKER, SUPERVISOR, a_request, a_visit, terms

POLICY = load_policy()
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
KEY = bytes(32)


def mapper() -> TypedMapper:
    return TypedMapper(transcoder())


def a_busy_order() -> ProtectionOrder:
    """An order holding a value of each kind it keeps."""
    order = ProtectionOrder.open(a_request(T0), by=SOCIAL_WORKER, at=T0, policy=POLICY)
    order.assess_risk(
        {"threats_to_kill": True, "strangulation": True},
        final_level=None,
        reason="",
        by=INSPECTOR,
        at=T0,
        policy=POLICY,
    )
    order.issue(terms(T0, kind=OrderKind.COURT), by=INSPECTOR, at=T0, policy=POLICY)
    proof_id = order.enrol_presence_proof(
        "p1", ProofKind.APP, by=SOCIAL_WORKER, at=T0, policy=POLICY
    )
    secret = new_secret()
    at = T0 + HOUR
    code = pyotp.TOTP(secret).at(at)
    order.record_visit(
        a_visit(at), code=code, secrets={proof_id: secret}, by=INSPECTOR, at=at, policy=POLICY
    )
    order.register_contact(
        "p1", channel=ContactChannel.SMS, address="+996555000111", by=SOCIAL_WORKER, at=at
    )
    order.report_breach(occurred_at=at, description="x", by=INSPECTOR, at=at, policy=POLICY)
    order.escalate(
        target=EscalationTarget.PROSECUTOR, reason="y", by=INSPECTOR, at=at, policy=POLICY
    )
    order.flag_report(
        rule="no_proof",
        strength=Strength.WEAK,
        evidence="z",
        flagged_version=5,
        by=INSPECTOR,
        at=at,
    )
    (finding,) = order.scrutiny.findings
    order.review_finding(
        finding.finding_id, decision=Decision.DISMISSED, reason="w", by=SUPERVISOR, at=at
    )
    order.record_missed_check_in(by=INSPECTOR, at=T0 + timedelta(days=15), policy=POLICY)
    order.report_death("p2", died_at=at, by=INSPECTOR, at=at, policy=POLICY)
    return order


def test_an_order_survives_its_snapshot_with_every_type_it_had() -> None:
    order = a_busy_order()
    snapshot = ProtectionOrder.Snapshot.take(order)
    m = mapper()
    restored = m.to_domain_event(m.to_stored_event(snapshot)).mutate(None)  # type: ignore[attr-defined]
    kept = {k: v for k, v in vars(order).items() if k != "_pending_events"}
    assert {k: v for k, v in vars(restored).items() if k != "_pending_events"} == kept
    assert {k: type(v) for k, v in vars(restored).items()} == {
        k: type(v) for k, v in vars(order).items()
    }
    assert order.used_codes.given and order.contacts and order.escalations and order.scrutiny.dead


@pytest.mark.parametrize("change", ["other version", "attribute missing", "attribute unknown"])
def test_a_snapshot_of_another_shape_of_state_is_refused(change: str) -> None:
    snapshot = ProtectionOrder.Snapshot.take(a_busy_order())
    state = dict(snapshot.state)
    if change == "other version":
        state[KEPT] = 0
    elif change == "attribute missing":
        del state["late_reports"]
    else:
        state["visits"] = []
    with pytest.raises(StaleSnapshot):
        replace(snapshot, state=state).mutate(None)


def test_a_mark_holds_only_for_the_snapshot_and_event_it_was_made_over() -> None:
    order_id = a_busy_order().id
    snapshot = StoredEvent(order_id, 12, "orders.snapshots:OrderSnapshot", b'{"a":1}')
    event = StoredEvent(order_id, 12, "orders.events:InspectionVisitRecorded", b'{"b":2}')
    stored = marked(KEY, snapshot, event)
    assert unmarked(KEY, stored, event) == snapshot
    assert unmarked(KEY, stored, None) is None  # no event at its version
    assert unmarked(bytes([1]) * 32, stored, event) is None  # another key
    assert unmarked(KEY, replace(stored, state=stored.state + b" "), event) is None
    assert (
        unmarked(KEY, replace(stored, originator_version=13), replace(event, originator_version=13))
        is None
    )
    assert unmarked(KEY, stored, replace(event, state=b'{"b":3}')) is None  # the event changed


def test_the_codes_used_come_back_in_order_and_a_counter_beyond_32_bits_is_refused() -> None:
    first, second = uuid4(), uuid4()
    used = UsedCodes()
    for proof, counter in [(first, 59_000_012), (second, 3), (first, 59_000_001), (first, 0)]:
        used = used.with_code(proof, counter)
    assert (first, 59_000_001) in used and (second, 3) in used
    assert (first, 59_000_002) not in used and (second, 0) not in used and 3 not in used
    assert used.with_code(first, 0) is used  # given again: nothing new
    coder = transcoder()
    again = coder.decode(coder.encode(used))
    assert again == used
    assert again.given == (
        CodesGiven(first, (0, 59_000_001, 59_000_012)),
        CodesGiven(second, (3,)),
    )
    stored = coder.encode(UsedCodes((CodesGiven(first, (9, 2, 5)),)))  # kept out of order
    assert coder.decode(stored).given[0].counters == (2, 5, 9)
    with pytest.raises(OverflowError):
        coder.encode(UsedCodes((CodesGiven(first, (2**32,)),)))
    as_first_stored = (  # before they were packed: a JSON number each, in the order given
        '{"_type_":"UsedCodes","_data_":{"given":[{"_type_":"CodesGiven","_data_":{'
        f'"proof_id":{{"_type_":"uuid_hex","_data_":"{first.hex}"}},"counters":[9,2,5]}}}}]}}}}'
    )
    assert coder.decode(as_first_stored.encode()) == UsedCodes((CodesGiven(first, (2, 5, 9)),))


def test_a_value_read_back_takes_a_default_and_refuses_a_field_missing_or_unknown() -> None:
    coder = transcoder()
    actor = coder.decode(coder.encode(Actor("insp-1", Role.INSPECTOR)))
    assert actor == Actor("insp-1", Role.INSPECTOR) and isinstance(actor.role, Role)
    stored = coder.encode(PresenceProof(uuid4(), "p1", ProofKind.CARD, T0, codes=40))
    without_default = stored.replace(b',"codes":40', b"")
    defaulted = coder.decode(without_default)
    assert defaulted.codes == 0  # a field added later, with a default
    assert list(vars(defaulted)) == list(vars(PresenceProof(uuid4(), "p1", ProofKind.CARD, T0)))
    with pytest.raises(TypeError):
        coder.decode(stored.replace(b'"codes"', b'"gone"'))  # a field the class lacks
    with pytest.raises(TypeError):
        coder.decode(coder.encode(Actor("insp-1", Role.INSPECTOR)).replace(b'"id"', b'"x"'))
