"""Bundles and verify-store on damaged data: named, never a crash, never a leak."""

from __future__ import annotations

import base64
import json

from orders.clock import SimulatedClock
from service.bootstrap import Service
from service.bundles import export_bundle
from service.checkpoints import make_checkpoint
from service.integrity import verify_store
from tests import tampering
from tests.integration.helpers import issued_order
from tests.integration.test_bundles import SHELTER, case  # noqa: F401 (a fixture)


def test_a_damaged_event_carries_no_sensitive_value_into_a_bundle_without_them(
    service: Service, clock: SimulatedClock, database_url: str
) -> None:
    """`committed()` returns a state that is not JSON as it is, and the bundle carries the
    committed form as the event's state: one byte of damage (a disk, or an insider) and a
    bundle exported without --with-sensitive carries her narrative (or her shelter's address)
    in the clear, base64, to whoever receives it."""
    order_id = issued_order(service.orders)
    make_checkpoint(service.orders, now=clock())
    service.views.catch_up()
    _, state = tampering.stored_event(database_url, order_id, 1)
    assert b"He struck her in the kitchen." in state
    tampering.write_state(database_url, order_id, 1, state + b" }")  # no longer JSON
    bundle = export_bundle(service.orders, service.timelines, order_id)
    assert bundle["sensitive"] == "withheld"
    carried = [base64.b64decode(e["state"]) for e in bundle["events"] if e.get("state")]
    assert not any(b"kitchen" in s for s in carried), "the narrative is in the bundle"
    assert "kitchen" not in json.dumps(bundle)


def test_damaged_heads_beside_a_checkpoint_are_a_finding_not_a_crash(
    service: Service, clock: SimulatedClock, database_url: str
) -> None:
    """A digest in checkpoint_heads that is not base64 makes verify-store (and the hourly
    store check, and the next checkpoint, and every export) raise binascii.Error instead of
    naming the damage."""
    issued_order(service.orders)
    make_checkpoint(service.orders, now=clock())
    with tampering.insider(database_url) as run:
        run("UPDATE checkpoint_heads SET digest = %s", ("not base64!",))
    found = [f for f in verify_store(service.orders) if not f.holds]
    assert any("heads" in str(f) for f in found), found
