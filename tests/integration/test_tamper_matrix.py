"""The tamper matrix of issue 9: what an insider with the database's superuser rights can do to
the store, on both engines, left so or followed by new events and a new checkpoint; each attack
must be named, event or gap, by verify-store and by the exported bundle of the order attacked.

The store: order B (3 events), then order A (request, assessment, issue, 3 visits: events
1..6, the newest of the log), and a checkpoint over those 9 events. A new checkpoint after an
attack must be refused, and the refusal kept.

Left out: a full restore of an older copy (checkpoints included), or a truncation of the
checkpoints too, leaves a store that is consistent with itself; only a witness outside it that
kept a later checkpoint can tell (built elsewhere). A bundle's own JSON edited: the second half
of this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import pytest
from eventsourcing.domain import OriginatorVersionError

from orders import ledger
from orders.clock import SimulatedClock
from orders.errors import ConcurrentChange, OrderNotFound
from service.bootstrap import Service
from service.bundles import export_bundle
from service.checkpoints import CheckpointRefused
from service.integrity import verify_store
from service.verification import fingerprint, verify_bundle
from service.work import check_store_now, checkpoint_now
from tests import tampering
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order

VISIT = "InspectionVisitRecorded"


@dataclass
class Store:
    """The service, its database, and the order the insider goes after."""

    service: Service
    database_url: str
    clock: SimulatedClock
    order: UUID
    tmp_path: Path

    def add_visits(self, count: int) -> None:
        for _ in range(count):
            self.clock.advance(timedelta(hours=5))
            self.service.orders.handle(a_visit_command(self.clock()), self.order, by=INSPECTOR)

    def failing(self) -> list[str]:
        return [str(f) for f in verify_store(self.service.orders) if not f.holds]

    def bundle_failing(self) -> list[str]:
        bundle = export_bundle(self.service.orders, self.service.timelines, self.order)
        checked = verify_bundle(bundle, trusted_keys=[self.service.orders.signer.public_key()])
        return [str(f) for f in checked.findings if not f.holds]


@pytest.fixture
def service(make_service: ServiceFactory) -> Service:
    """A service that keeps no order in memory, so each visit reads the order from the store as
    a process that never read it would. One that keeps it goes on from what it saw, as it
    would from a snapshot (decision 024); the checkpoint and the store check asserted in
    `carry_on` raise the alarm either way."""
    return make_service(orders_in_memory=0)


@pytest.fixture
def store(service: Service, database_url: str, clock: SimulatedClock, tmp_path: Path) -> Store:
    issued_order(service.orders)  # order B
    arranged = Store(service, database_url, clock, issued_order(service.orders), tmp_path)
    arranged.add_visits(3)
    checkpoint_now(service)
    service.views.catch_up()
    return arranged


# --- the attacks -------------------------------------------------------------------------


def edit_a_byte(store: Store) -> None:
    tampering.edit_state(store.database_url, store.order, 5, old=b'"p1"', new=b'"p2"')


def swap_two_states(store: Store) -> None:
    tampering.swap_states(store.database_url, store.order, 4, 5)


def delete(version: int, *, with_seal: bool) -> Callable[[Store], None]:
    def act(store: Store) -> None:
        tampering.delete_event(store.database_url, store.order, version, with_seal=with_seal)

    return act


def insert(*, seal: Literal["none", "forged"]) -> Callable[[Store], None]:
    def act(store: Store) -> None:
        tampering.insert_event(store.database_url, store.order, copy_of=6, seal=seal)

    return act


def recompute_the_chain(*, forge_seals: bool) -> Callable[[Store], None]:
    def act(store: Store) -> None:
        tampering.edit_state(
            store.database_url, store.order, 5, old=b'"person_safe"', new=b'"person_not_found"'
        )
        tampering.recompute_chain_after_edit(
            store.database_url, store.order, forge_seals=forge_seals
        )

    return act


def truncate(store: Store) -> None:
    tampering.truncate(store.database_url, "events", "event_seals")


def restore_an_older_copy(*, timeline_too: bool) -> Callable[[Store], None]:
    """Events and seals rolled back to a copy taken at the first checkpoint, while the second
    checkpoint, over two more visits, stays; with `timeline_too`, the timeline's rows of those
    visits go as well."""

    def act(store: Store) -> None:
        copy = tampering.copy_of_store(store.database_url, store.tmp_path / "copy.db")
        store.add_visits(2)
        checkpoint_now(store.service)
        store.service.views.catch_up()
        tampering.restore_log(store.database_url, copy)
        if timeline_too:
            tampering.delete_timeline_rows(store.database_url, store.order, from_version=7)

    return act


def delete_the_newest_with_its_timeline_row(store: Store) -> None:
    tampering.delete_event(store.database_url, store.order, 6, with_seal=True)
    tampering.delete_timeline_rows(store.database_url, store.order, from_version=6)


Name = str | tuple[str, ...]
"""Text a failing finding must hold; a tuple's parts must all be in the same finding."""


@dataclass(frozen=True)
class Attack:
    """What the insider does, and what must be named after it, left so and once new events
    came. Each name must occur in a failing finding; `{order}` stands for the attacked order."""

    act: Callable[[Store], None]
    store_names: tuple[Name, ...]
    bundle_names: tuple[Name, ...]
    store_names_then: tuple[Name, ...] | None = None  # if the new events change what is named
    bundle_names_then: tuple[Name, ...] | None = None
    visit_refused: type[Exception] | None = None  # what a new visit to the order meets after it
    export_refused: type[Exception] | None = None
    marks: dict[tuple[str, bool], pytest.MarkDecorator] = field(default_factory=dict)

    def names(self, side: str, followed: bool) -> tuple[Name, ...]:
        now, then = (
            (self.store_names, self.store_names_then)
            if side == "store"
            else (self.bundle_names, self.bundle_names_then)
        )
        return then if followed and then is not None else now


def altered(version: int) -> str:
    return f"order {{order}} event {version} ({VISIT}): its content or its place in the chain"


def forged(version: int) -> str:
    return f"order {{order}} event {version} ({VISIT}): its seal was not made by this service"


def missing_before(version: int) -> str:
    return f"order {{order}} event {version} ({VISIT}): follows event {version - 2}: " + (
        f"events {version - 1}..{version - 1} are missing"
    )


def not_in_the_signed_log(version: int) -> str:
    return f"FAIL event {version} ({VISIT}): not in the signed log as it stands"


def not_covered(version: int) -> str:
    return f"FAIL event {version} ({VISIT}): not covered by a signed checkpoint"


def no_event_for_row(version: int) -> str:
    return f"FAIL timeline row for event {version}: has no verified event in the bundle"


def no_longer_signed(size: int, remain: int) -> str:
    return f"the signed log held {size} events; only {remain} remain"


ATTACKS = {
    "a byte edited": Attack(edit_a_byte, (altered(5),), (not_in_the_signed_log(5),)),
    "two states swapped": Attack(
        swap_two_states, (altered(4), altered(5)), (not_in_the_signed_log(4),)
    ),
    "a middle event deleted": Attack(
        delete(5, with_seal=False),
        (missing_before(6),),
        (f"FAIL event 6 ({VISIT}): expected event 5: events 5..5 are missing",),
        visit_refused=OriginatorVersionError,  # the order no longer loads
    ),
    "a middle event deleted with its seal": Attack(
        delete(5, with_seal=True),
        (missing_before(6),),
        (f"FAIL event 6 ({VISIT}): expected event 5: events 5..5 are missing",),
        visit_refused=OriginatorVersionError,
    ),
    "the newest event deleted": Attack(
        delete(6, with_seal=False),
        ("order {order}: sealed up to event 6, but the store ends at event 5",),
        (no_event_for_row(6),),  # the timeline still shows it
        visit_refused=ConcurrentChange,  # its seal is still there: a new event 6 cannot be
    ),
    "the newest event deleted with its seal": Attack(
        delete(6, with_seal=True),
        (no_longer_signed(9, 8),),
        (no_event_for_row(6),),
        store_names_then=(("FAIL order {order}", "event 6"),),
        bundle_names_then=(not_covered(6),),  # the new event 6 is not the signed one
    ),
    "the newest event deleted with its seal and its timeline row": Attack(
        delete_the_newest_with_its_timeline_row,
        (no_longer_signed(9, 8),),
        ("events 6..6",),
        store_names_then=(("FAIL order {order}", "event 6"),),
        bundle_names_then=(not_covered(6),),
    ),
    "an event inserted": Attack(
        insert(seal="none"),
        (f"order {{order}} event 7 ({VISIT}): has no seal: it was written around the service",),
        (not_covered(7),),
    ),
    "an event inserted with a forged seal": Attack(
        insert(seal="forged"), (forged(7),), (not_covered(7),)
    ),
    "the chain recomputed after an edit, seals kept": Attack(
        recompute_the_chain(forge_seals=False),
        (forged(5),),
        (not_in_the_signed_log(5), "FAIL timeline row for event 5: summary differ(s)"),
    ),
    "the chain recomputed after an edit, seals forged": Attack(
        recompute_the_chain(forge_seals=True),
        (forged(5),),
        (not_in_the_signed_log(5), "FAIL timeline row for event 5: summary differ(s)"),
    ),
    "a truncation": Attack(
        truncate,
        (no_longer_signed(9, 0),),
        (),
        store_names_then=(("the signed log held 9 events; only", "remain"),),
        visit_refused=OrderNotFound,
        export_refused=OrderNotFound,
    ),
    "a restore of an older copy": Attack(
        restore_an_older_copy(timeline_too=False),
        (no_longer_signed(11, 9),),
        (no_event_for_row(8),),
        store_names_then=(("FAIL order {order}", "8"),),
    ),
    "a restore of an older copy, the timeline's rows too": Attack(
        restore_an_older_copy(timeline_too=True),
        (no_longer_signed(11, 9),),
        ("events 7..8",),
        store_names_then=(("FAIL order {order}", "8"),),
        bundle_names_then=(not_covered(7),),  # the new event 7 is not the signed one
    ),
}


def cases(side: str) -> list[Any]:
    return [
        pytest.param(
            attack,
            followed,
            id=f"{name}{', then new events' if followed else ''}",
            marks=[attack.marks[side, followed]] if (side, followed) in attack.marks else [],
        )
        for name, attack in ATTACKS.items()
        for followed in (False, True)
    ]


def carry_on(store: Store, attack: Attack) -> None:
    """The service goes on: a new order, a visit to the attacked one, a checkpoint, and the
    scheduler's store check. A checkpoint verifies what it newly covers: over new events that
    do not chain onto what it signed before, it is refused; otherwise it extends the signed
    history (never the tampered one: verify-store still names the attack). Either way the
    store check keeps a refusal and raises the alarm."""
    orders = store.service.orders
    signed = orders.records.select_latest_checkpoint()
    store.clock.advance(timedelta(hours=1))
    issued_order(orders)
    if attack.visit_refused is None:
        store.add_visits(1)
    else:
        with pytest.raises(attack.visit_refused):
            store.add_visits(1)
    store.service.views.catch_up()
    try:
        made = checkpoint_now(store.service)
    except CheckpointRefused:
        assert orders.records.select_latest_checkpoint() == signed
    else:
        assert made is not None and signed is not None and made.size > signed.size
    assert check_store_now(store.service)
    refusals = orders.records.select_checkpoint_refusals()
    assert refusals and any(why.startswith("store check") for _, why in refusals)


def assert_named(names: tuple[Name, ...], failing: list[str], order: UUID) -> None:
    assert failing, "nothing failed"
    shown = [f.replace(str(order), "{order}") for f in failing]
    for name in names:
        parts = (name,) if isinstance(name, str) else name
        assert any(all(p in f for p in parts) for f in shown), f"{parts!r} not in:\n" + "\n".join(
            shown
        )


@pytest.mark.parametrize(("attack", "followed"), cases("store"))
def test_verify_store_names_what_the_insider_did(
    store: Store, attack: Attack, followed: bool
) -> None:
    attack.act(store)
    if followed:
        carry_on(store, attack)
    assert_named(attack.names("store", followed), store.failing(), store.order)


@pytest.mark.parametrize(("attack", "followed"), cases("bundle"))
def test_the_bundle_of_the_attacked_order_names_it(
    store: Store, attack: Attack, followed: bool
) -> None:
    attack.act(store)
    if followed:
        carry_on(store, attack)
    if attack.export_refused is not None:
        with pytest.raises(attack.export_refused):
            store.bundle_failing()
        return  # what verify-store names: the other test
    assert_named(attack.names("bundle", followed), store.bundle_failing(), store.order)


# --- a bundle's own JSON edited ----------------------------------------------------------
# The edits are the same on either engine: SQLite only. In test_bundles.py already: readable
# text edited, a timeline row edited and one dropped, the last events dropped, a forgery
# re-signed with another key over a tree of its own, a withheld field replaced by invented text.

Bundle = dict[str, Any]
ATTACKER = ledger.Signer(bytes([7]) * 32)


def state_edited(bundle: Bundle, index: int, *, old: bytes, new: bytes) -> None:
    state = ledger.unb64(bundle["events"][index]["state"])
    assert state.count(old) == 1
    bundle["events"][index]["state"] = ledger.b64(state.replace(old, new))


def change_a_state_byte(bundle: Bundle) -> None:
    state_edited(bundle, 4, old=b'"p1"', new=b'"p2"')


def swap_two_events_states(bundle: Bundle) -> None:
    fourth, fifth = bundle["events"][3], bundle["events"][4]
    for key in ("state", "content"):  # the readable copies follow, so they agree
        fourth[key], fifth[key] = fifth[key], fourth[key]


def reorder_two_events(bundle: Bundle) -> None:
    events = bundle["events"]
    events[3], events[4] = events[4], events[3]


def drop_a_middle_event(bundle: Bundle) -> None:
    del bundle["events"][4]
    bundle["timeline"] = [row for row in bundle["timeline"] if row["version"] != 5]


def drop_the_last_events_and_lower_the_count(bundle: Bundle) -> None:
    del bundle["events"][4:]
    bundle["timeline"] = [row for row in bundle["timeline"] if row["version"] <= 4]
    bundle["head"]["events"] = 4


def append_an_event(bundle: Bundle) -> None:
    invented = dict(bundle["events"][-1], version=7, log_index=None, inclusion_proof=None)
    bundle["events"].append(invented)


def move_an_event_in_the_log(bundle: Bundle) -> None:
    bundle["events"][4]["log_index"] -= 1


def add_a_timeline_row(bundle: Bundle) -> None:
    bundle["timeline"].append(dict(bundle["timeline"][-1], version=7))


def repeat_a_timeline_row(bundle: Bundle) -> None:
    bundle["timeline"].append(dict(bundle["timeline"][3]))


def add_another_orders_timeline_row(bundle: Bundle) -> None:
    bundle["timeline"][3]["order_id"] = str(UUID(int=1))


def re_sign_with_another_key(bundle: Bundle) -> None:
    signed = ledger.Checkpoint.from_json(bundle["checkpoint"])
    bundle["checkpoint"] = ATTACKER.checkpoint(signed.size, signed.root, signed.signed_at).as_json()
    bundle["public_key"] = ledger.b64(ATTACKER.public_key())


def claim_a_larger_checkpoint(bundle: Bundle) -> None:
    bundle["checkpoint"]["size"] += 1


def remove_the_checkpoint(bundle: Bundle) -> None:
    bundle["checkpoint"] = None


BUNDLE_EDITS = [
    pytest.param(change_a_state_byte, (not_in_the_signed_log(5),), id="a state byte changed"),
    pytest.param(
        swap_two_events_states,
        (not_in_the_signed_log(4), not_in_the_signed_log(5)),
        id="two events' states swapped",
    ),
    pytest.param(
        reorder_two_events,
        (f"FAIL event 4 ({VISIT}): expected event 6: events are out of order",),
        id="two events reordered",
    ),
    pytest.param(
        drop_a_middle_event,
        (f"FAIL event 6 ({VISIT}): expected event 5: events 5..5 are missing",),
        id="a middle event and its timeline row dropped",
    ),
    pytest.param(
        drop_the_last_events_and_lower_the_count,
        ("FAIL order: its head (event 4) is not the one the checkpoint signed",),
        id="the last events dropped and the signed count lowered",
    ),
    pytest.param(append_an_event, (not_covered(7),), id="an event appended"),
    pytest.param(move_an_event_in_the_log, (not_in_the_signed_log(5),), id="an event moved"),
    pytest.param(add_a_timeline_row, (no_event_for_row(7),), id="a timeline row added"),
    pytest.param(
        repeat_a_timeline_row, ("FAIL timeline row for event 4: appears twice",), id="a row twice"
    ),
    pytest.param(
        add_another_orders_timeline_row,
        ("FAIL timeline row for event 4: belongs to another order",),
        id="another order's timeline row",
    ),
    pytest.param(
        re_sign_with_another_key,
        (
            f"FAIL checkpoint: signed by key {fingerprint(ATTACKER.public_key())}, "
            "which is not a trusted key",
        ),
        id="re-signed with another key, which the bundle carries",
    ),
    pytest.param(
        claim_a_larger_checkpoint,
        ("FAIL checkpoint: signed by no key we know",),
        id="the checkpoint's size raised",
    ),
    pytest.param(
        remove_the_checkpoint,
        ("FAIL checkpoint: the bundle has no signed checkpoint",),
        id="the checkpoint removed",
    ),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("edit", "names"), BUNDLE_EDITS)
def test_an_edited_bundle_is_not_verified_and_the_edit_is_named(
    store: Store, edit: Callable[[Bundle], None], names: tuple[Name, ...]
) -> None:
    orders = store.service.orders
    bundle = export_bundle(orders, store.service.timelines, store.order)
    edit(bundle)
    checked = verify_bundle(bundle, trusted_keys=[orders.signer.public_key()])
    assert checked.exit_code == 1
    assert_named(names, [str(f) for f in checked.findings if not f.holds], store.order)
