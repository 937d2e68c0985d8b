"""Case bundles: an order's evidence exported for a prosecutor (checked by service.verification).

Each event's state is carried in its committed form, so sensitive values leave only when
someone entitled asks for them, as a recorded disclosure; damaged events export as far as they
can and are marked; the order's head and each event's inclusion proof come from the signed
checkpoint, signed first if it does not yet cover the order's last event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from orders import ledger
from orders.application import Orders
from orders.commitments import committed, disclosed, salts
from orders.disclosure import SENSITIVE_FIELDS, Disclosure
from orders.errors import OrderNotFound
from orders.records import LogEntry, Seal
from orders.values import Actor
from projections.database import iso
from projections.timeline import Timelines
from service.checkpoints import CheckpointRefused, latest_checkpoint, make_checkpoint
from service.countersigned import cosignatures_of
from service.integrity import _sealed, heads_at, orders_root, plain
from service.verification import FORMAT, readable


def export_bundle(
    orders: Orders,
    timelines: Timelines,
    order_id: UUID,
    *,
    sensitive_for: Actor | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A self-contained case file. Each event's state is carried in its committed form, so
    sensitive values are never in the bundle unless `sensitive_for` names who asks for them;
    then each is disclosed beside its event with its salt, and the export is recorded as a
    Disclosure first (if that cannot be stored, nothing is exported). Damaged events export as
    far as they can and are marked `undecodable`."""
    stored = orders.recorder.select_events(order_id)  # raw: a damaged order must still export
    if not stored:
        raise OrderNotFound(order_id)
    sealed = _sealed(orders)  # read once: signing a checkpoint adds no event to it
    checkpoint = _covering(orders, order_id, stored[-1].originator_version, sealed)
    size = checkpoint.size if checkpoint else 0
    tree = ledger.MerkleTree([ledger.leaf_hash(ledger.unb64(s.digest)) for _, s in sealed[:size]])
    index = {(entry.order_id, entry.version): i for i, (entry, _) in enumerate(sealed)}
    if sensitive_for is not None:
        at = now if now is not None else orders.now()
        orders.save(Disclosure.record(order_id, by=sensitive_for, fields=SENSITIVE_FIELDS, at=at))
    events = [
        _exported(orders, order_id, event, index, tree, sensitive_for is not None)
        for event in stored
    ]
    return {
        "format": FORMAT,
        "order_id": str(order_id),
        "sensitive": "included" if sensitive_for is not None else "withheld",
        "head": _head(orders, order_id, checkpoint, sealed[:size]),
        "events": events,
        "timeline": [
            {k: (iso(v) if isinstance(v, datetime) else v) for k, v in row.items()}
            for row in timelines.of(order_id)
        ],
        "checkpoint": checkpoint.as_json() if checkpoint else None,
        "cosignatures": cosignatures_of(orders, checkpoint),
        "public_key": ledger.b64(orders.signer.public_key()),
    }


def _covering(
    orders: Orders, order_id: UUID, last: int, sealed: list[tuple[LogEntry, Seal]]
) -> ledger.Checkpoint | None:
    """The latest checkpoint, signed now if it does not yet cover the order's last event; if
    the log does not verify, the one before stands (and the events it lacks fail to verify)."""
    checkpoint = latest_checkpoint(orders)
    size = checkpoint.size if checkpoint else 0
    if (order_id, last) in {(e.order_id, e.version) for e, _ in sealed[:size]}:
        return checkpoint
    try:
        return make_checkpoint(orders, now=orders.now())
    except CheckpointRefused:
        return checkpoint


def _exported(
    orders: Orders,
    order_id: UUID,
    event: StoredEvent,
    index: dict[tuple[UUID, int], int],
    tree: ledger.MerkleTree,
    with_sensitive: bool,
) -> dict[str, Any]:
    version = event.originator_version
    at_index = index.get((order_id, version))
    entry: dict[str, Any] = {"version": version, "topic": event.topic}
    damage = None
    try:
        recorded = plain(orders, event.state)
    except Exception as e:  # a damaged ciphertext: export the rest
        recorded, damage = event.state, f"cannot be decrypted ({type(e).__name__})"
    salt = salts(orders.signer.seal_key, order_id, version)
    form = committed(recorded, salt)
    shown = disclosed(recorded, salt) if with_sensitive and damage is None else {}
    content, problem = readable(form, shown)
    if damage or problem:  # never its bytes: a damaged state may hold anything in clear
        record = ledger.record_hash(order_id, version, event.topic, form)
        entry.update(state=None, record_hash=ledger.b64(record), undecodable=damage or problem)
    else:
        entry.update(state=ledger.b64(form), content=content)
        if shown:
            entry["disclosed"] = shown
    entry["log_index"] = at_index
    entry["inclusion_proof"] = (
        None
        if at_index is None or at_index >= len(tree.leaves)
        else [ledger.b64(p) for p in tree.proof(at_index)]
    )
    return entry


def _head(
    orders: Orders,
    order_id: UUID,
    checkpoint: ledger.Checkpoint | None,
    sealed: list[tuple[LogEntry, Seal]],
) -> dict[str, Any] | None:
    """The order's head in the checkpoint's orders tree, and its inclusion proof: how many
    events the order had when the checkpoint was signed. From the heads kept with the
    checkpoint when they hold for its signed root (so a store that lost events since still
    exports what was signed), else from the store as it stands."""
    if checkpoint is None:
        return None
    latest = orders.records.select_checkpoint_heads(checkpoint.size)
    if not latest or orders_root(latest) != checkpoint.orders_root:
        latest = heads_at(
            [(e.order_id, e.version, ledger.unb64(s.digest)) for e, s in sealed], len(sealed)
        )
    if order_id not in latest:
        return None
    tree = [ledger.head_leaf(o, v, d) for o, (v, d) in latest.items()]
    at = list(latest).index(order_id)
    return {
        "events": latest[order_id][0],
        "index": at,
        "orders": len(tree),
        "proof": [ledger.b64(p) for p in ledger.inclusion_proof(at, tree)],
    }
