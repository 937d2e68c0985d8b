"""Review: after every command, the last SetsDeadlines event's duty_due / check_in_deadline equal
the order's own duties.next_at / check_ins.deadline, and replaying the events gives the same
state as the live aggregate."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orders import errors
from orders.domain import ProtectionOrder
from orders.policy import load_policy
from orders.values import SYSTEM_ACTOR, Actor, BreachResponseKind, EscalationTarget, Role
from tests.factories import HIGH_RISK_ANSWERS, INSPECTOR, SUPERVISOR, a_request, a_visit, terms

POLICY = load_policy()
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
OTHER = Actor("chief-aida", Role.SUPERVISOR)
PROS = Actor("pros-1", Role.PROSECUTOR)
ANSWERS = [
    HIGH_RISK_ANSWERS,
    {"violence_increasing": True},
    {},
    {"substance_abuse": True},
    {
        "threats_to_kill": True,
        "strangulation": True,
        "firearm_or_weapon": True,
        "violence_increasing": True,
    },
]
OPS = [
    "breach",
    "respond",
    "escalate",
    "ack",
    "assess",
    "approve",
    "reject",
    "extend",
    "revoke",
    "expire",
    "attend",
    "missed",
    "visit",
]


def state(order: ProtectionOrder) -> tuple:
    return (
        order.duties,
        order.lowering,
        dict(order.contacts),
        order.risk_level,
        order.check_ins,
        order.status,
        order.needs_reassessment,
    )


def do(order: ProtectionOrder, op: str, k: int, at: datetime) -> None:
    if op == "breach":
        order.report_breach(occurred_at=at, description="x", by=INSPECTOR, at=at, policy=POLICY)
    elif op == "respond" and order.breaches:
        b = list(order.breaches)[k % len(order.breaches)]
        order.respond_to_breach(
            b,
            response=next(iter(BreachResponseKind)),
            responded_at=at,
            notes="",
            by=INSPECTOR,
            at=at,
            policy=POLICY,
        )
    elif op == "escalate":
        order.escalate(
            target=list(EscalationTarget)[k % 3], reason="r", by=INSPECTOR, at=at, policy=POLICY
        )
    elif op == "ack" and order.duties.alerts:
        a = order.duties.alerts[k % len(order.duties.alerts)]
        order.acknowledge_alert(
            a.alert_id, note="on it", by=[INSPECTOR, SUPERVISOR, PROS][k % 3], at=at
        )
    elif op == "assess":
        order.assess_risk(
            ANSWERS[k % len(ANSWERS)],
            final_level=None,
            reason="why",
            by=[INSPECTOR, SUPERVISOR][k % 2],
            at=at,
            policy=POLICY,
        )
    elif op == "approve" and order.lowering:
        order.approve_lowering(order.lowering.proposal_id, by=OTHER, at=at, policy=POLICY)
    elif op == "reject" and order.lowering:
        order.reject_lowering(order.lowering.proposal_id, reason="no", by=OTHER, at=at)
    elif op == "extend" and order.terms is not None and order.terms.valid_until is not None:
        order.extend(
            valid_until=order.terms.valid_until + timedelta(days=1 + k % 5),
            reason="r",
            by=SUPERVISOR,
            at=at,
            policy=POLICY,
        )
    elif op == "revoke":
        order.revoke(reason="r", by=SUPERVISOR, at=at)
    elif op == "expire":
        order.expire(by=SYSTEM_ACTOR, at=at)
    elif op == "attend":
        order.attend_to_duties(by=SYSTEM_ACTOR, at=at, policy=POLICY)
    elif op == "missed":
        while order.check_ins is not None and order.check_ins.overdue_at(at):
            order.record_missed_check_in(by=SYSTEM_ACTOR, at=at, policy=POLICY)
        order.attend_to_duties(by=SYSTEM_ACTOR, at=at, policy=POLICY)
    elif op == "visit":
        order.record_visit(
            a_visit(at - timedelta(hours=k % 30)), by=INSPECTOR, at=at, policy=POLICY
        )


def replay(events: list) -> ProtectionOrder:
    order = None
    for e in events:
        order = e.mutate(order)
    assert order is not None
    return order


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 60)), max_size=30),
    st.booleans(),
)
def test_events_carry_the_orders_own_next_deadlines(steps, issue_first) -> None:
    order = ProtectionOrder.open(a_request(T0), by=INSPECTOR, at=T0, policy=POLICY)
    order.assess_risk(ANSWERS[0], final_level=None, reason="", by=INSPECTOR, at=T0, policy=POLICY)
    if issue_first:
        order.issue(terms(T0), by=INSPECTOR, at=T0, policy=POLICY)
    at = T0
    history = list(order.collect_events())
    for op, k, hours in steps:
        at += timedelta(hours=hours)
        with contextlib.suppress(errors.DomainError):
            do(order, op, k, at)
        new = list(order.collect_events())
        for e in new:
            event(type(e).__name__)
        history += new
        sets = [e for e in history if isinstance(e, ProtectionOrder.SetsDeadlines)]
        if sets:
            last = sets[-1]
            assert last.duty_due == order.duties.next_at, (op, last, order.duties)
            if order.check_ins is not None:
                assert last.check_in_deadline == order.check_ins.deadline, (op, last)
        replayed = replay(history)
        assert state(replayed) == state(order), op
    if issue_first is False:
        with contextlib.suppress(errors.DomainError):
            order.issue(terms(at), by=INSPECTOR, at=at, policy=POLICY)


def test_state_loaded_from_the_store_equals_the_live_order(tmp_path) -> None:
    """The same random histories, saved to SQLite through Orders and loaded back."""
    from orders.clock import SimulatedClock
    from service.bootstrap import bootstrap
    from service.settings import Settings

    service = bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path}/o.db"), clock=SimulatedClock(T0)
    )
    try:

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            st.lists(
                st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 60)), max_size=25
            )
        )
        def run(steps) -> None:
            order = ProtectionOrder.open(a_request(T0), by=INSPECTOR, at=T0, policy=POLICY)
            order.assess_risk(
                ANSWERS[0], final_level=None, reason="", by=INSPECTOR, at=T0, policy=POLICY
            )
            order.issue(terms(T0), by=INSPECTOR, at=T0, policy=POLICY)
            at = T0
            for op, k, hours in steps:
                at += timedelta(hours=hours)
                with contextlib.suppress(errors.DomainError):
                    do(order, op, k, at)
            service.orders.save(order)
            loaded = service.orders.get(order.id)
            assert state(loaded) == state(order)

        run()
    finally:
        service.close()
