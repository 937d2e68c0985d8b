"""Incremental checkpoints against an insider (the database's superuser, without the signing
key): a checkpoint row he wrote, a cursor he moved or reshaped, heads he removed. Each test's
docstring tells the attack as the review found it working before the fix."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from uuid import UUID

from orders import ledger
from orders.clock import SimulatedClock
from service.bootstrap import Service
from service.bundles import export_bundle
from service.checkpoints import latest_checkpoint, make_checkpoint
from service.integrity import verify_store
from service.verification import verify_bundle
from tests import tampering
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order


def failures(service: Service) -> list[str]:
    return [str(f) for f in verify_store(service.orders) if not f.holds]


def edit_latest_cursor(database_url: str, change: Any) -> None:
    """The insider rewrites the latest checkpoint's cursor (it is not signed)."""
    ((size, text),) = tampering.sql(
        database_url, "SELECT size, cursor FROM checkpoints ORDER BY size DESC LIMIT 1"
    )
    cursor = json.loads(text)
    change(cursor)
    with tampering.insider(database_url) as run:
        run("UPDATE checkpoints SET cursor = %s WHERE size = %s", (json.dumps(cursor), size))


def visit(service: Service, clock: SimulatedClock, order_id: UUID) -> None:
    clock.advance(timedelta(hours=5))
    service.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)


def test_a_cursor_pointed_past_the_log_does_not_stop_checkpoints_without_an_alarm(
    service: Service, clock: SimulatedClock, database_url: str
) -> None:
    """The cursor's `last` may be null, and then nothing checks its position: pointed past
    the log's head, every later checkpoint answers "nothing new". No refusal, no alarm, and
    verify-store finds nothing; events written since can then be deleted, with their seals,
    and nobody can tell."""
    order_id = issued_order(service.orders)
    make_checkpoint(service.orders, now=clock())

    def past_the_log(cursor: dict[str, Any]) -> None:
        cursor["position"], cursor["last"] = 10**12, None

    edit_latest_cursor(database_url, past_the_log)
    signed = latest_checkpoint(service.orders)
    assert signed is not None
    visit(service, clock, order_id)  # version 4, after the checkpoint
    visit(service, clock, order_id)  # version 5
    made = make_checkpoint(service.orders, now=clock())  # as the scheduler would, again and again

    # the insider removes the newest visits, seals and all
    tampering.delete_event(database_url, order_id, 5, with_seal=True)
    tampering.delete_event(database_url, order_id, 4, with_seal=True)

    refusals = service.orders.records.select_checkpoint_refusals()
    assert made.size > signed.size or refusals or failures(service), (
        "checkpoints stopped without an alarm, and two deleted visits are invisible"
    )


def test_a_reshaped_frontier_does_not_make_the_service_sign_a_root_that_is_not_the_logs(
    service: Service, clock: SimulatedClock, database_url: str
) -> None:
    """The frontier is checked only by folding it to the signed root, and the fold ignores the
    widths: the insider replaces it with one subtree as wide as the whole log (it folds to
    the same root). The next checkpoint extends that shape, so the service signs a root that
    is not the RFC 9162 root of its log: every checkpoint from then on, and every bundle
    exported under them, fails ("the log was rewritten"), though no event was touched."""
    order_id = issued_order(service.orders)
    visit(service, clock, order_id)
    issued_order(service.orders)  # 7 events: not a power of two
    first = make_checkpoint(service.orders, now=clock())
    assert first.size & (first.size - 1), "the shape matters only if the size is not 2^k"

    def one_subtree(cursor: dict[str, Any]) -> None:
        cursor["frontier"] = [[first.size, ledger.b64(first.root)]]

    edit_latest_cursor(database_url, one_subtree)
    visit(service, clock, order_id)
    made = make_checkpoint(service.orders, now=clock())
    assert made.size > first.size  # the visit, and the alarm about the cursor
    (refused,) = service.orders.records.select_checkpoint_refusals()
    assert refused[1].startswith("checkpoint cursor: ")
    service.views.catch_up()
    bundle = export_bundle(service.orders, service.timelines, order_id)
    checked = verify_bundle(bundle)
    assert failures(service) == [] and checked.exit_code == 2, (
        "an intact log, yet verify-store and the order's bundle both fail",
        failures(service),
        checked.verdict,
    )


def test_heads_removed_from_beside_a_checkpoint_are_named(
    service: Service, clock: SimulatedClock, database_url: str
) -> None:
    """`_heads_findings` returns nothing when no heads are kept, so deleting checkpoint_heads
    silently turns off what names the order whose newest events were removed."""
    order_id = issued_order(service.orders)
    visit(service, clock, order_id)
    issued_order(service.orders)
    make_checkpoint(service.orders, now=clock())

    tampering.delete_event(database_url, order_id, 4, with_seal=True)  # her newest visit
    assert any(f"order {order_id}" in f for f in failures(service))  # named, by the heads

    tampering.truncate(database_url, "checkpoint_heads")
    found = failures(service)
    assert any(f"order {order_id}" in f or "heads" in f for f in found), found


def test_a_checkpoint_row_the_service_did_not_sign_is_not_extended(
    service: Service, clock: SimulatedClock, database_url: str
) -> None:
    """make_checkpoint's incremental path never checks the latest checkpoint's signature: it
    takes the row with the most events, its cursor and its heads as they are. The insider
    rewrites an event that no checkpoint covers yet (her risk answers: no sensitive field, so
    no seal key is needed for its digest), recomputes the stored digests, and adds a
    checkpoint row of his own over the rewritten log (any signature, its frontier, its heads).
    The service's next checkpoint extends it and signs the rewritten log; the insider removes
    his row. The order's bundle then verifies against the service's key."""
    make_checkpoint(service.orders, now=clock())  # over nothing yet: a first, genuine one
    x = issued_order(service.orders)
    make_checkpoint(service.orders, now=clock())  # covers x
    y = issued_order(service.orders)  # her order: not yet covered

    tampering.edit_state(
        database_url, y, 2, old=b'"threats_to_kill":true', new=b'"threats_to_kill":false'
    )
    tampering.recompute_chain_after_edit(database_url, y, forge_seals=False)

    from service.integrity import _sealed, heads_at, orders_root  # the insider's arithmetic

    sealed = _sealed(service.orders)  # entries in log order, digests as now stored
    leaves = [ledger.leaf_hash(ledger.unb64(s.digest)) for _, s in sealed]
    heads = heads_at([(e.order_id, e.version, ledger.unb64(s.digest)) for e, s in sealed], 10**9)
    last = sealed[-1][0]
    logged = service.orders.records.select_log_events()[-1]
    cursor = {
        "position": logged.position,
        "tx": logged.tx,
        "last": [str(last.order_id), last.version],
        "frontier": [[w, ledger.b64(n)] for w, n in ledger.extended((), leaves)],
    }
    size = len(leaves)
    rows = [(str(o), p, v, ledger.b64(d)) for p, (o, (v, d)) in enumerate(heads.items())]
    with tampering.insider(database_url) as run:
        run(
            "INSERT INTO checkpoints VALUES (%s, %s, %s, %s, %s, %s)",
            (
                size,
                ledger.b64(ledger.merkle_root(leaves)),
                "2026-03-02T09:00:00.000000+00:00",
                ledger.b64(bytes(64)),  # he cannot sign
                ledger.b64(orders_root(heads)),
                json.dumps(cursor),
            ),
        )
        for row in rows:
            run("INSERT INTO checkpoint_heads VALUES (%s, %s, %s, %s, %s)", (size, *row))

    visit(service, clock, x)  # the service goes on working
    try:
        signed = make_checkpoint(service.orders, now=clock())
    except Exception:
        return  # refused: what should happen (the latest checkpoint's signature does not hold)
    assert signed.size == size + 1 and ledger.signature_holds(
        service.orders.signer.public_key(), signed
    )
    with tampering.insider(database_url) as run:  # his row goes; the heads stay whole
        run("DELETE FROM checkpoints WHERE size = %s", (size,))
        run("DELETE FROM checkpoint_heads WHERE size = %s", (size,))
        for row in rows:
            run(
                "INSERT INTO checkpoint_heads VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (size + 1, *row),
            )

    service.views.catch_up()
    bundle = export_bundle(service.orders, service.timelines, y)
    assert bundle["checkpoint"]["size"] == size + 1
    rewritten = bundle["events"][1]["content"]
    assert "false" in json.dumps(rewritten) and "threats_to_kill" in json.dumps(rewritten)
    checked = verify_bundle(bundle, trusted_keys=[service.orders.signer.public_key()])
    assert not checked.verified, f"the service signed a rewritten log: {checked.verdict}"
