"""Signing checkpoints: each verifies what it newly covers before it signs, and keeps why not.

A checkpoint extends the one before it: the new events (after the latest checkpoint's log
position) are verified against the heads that checkpoint kept (their chains, their seals),
appended to its tree's frontier, and signed with the new orders root. The work is
proportional to what is new, not to the log; the whole log is checked by `verify-store`
(and by the scheduler's periodic store check, which raises the same alarm). The first
checkpoint, or one after a checkpoint kept without a cursor, verifies the whole log.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import datetime, timedelta

from orders import ledger
from orders.alarms import IntegrityAlarm
from orders.application import Orders
from orders.records import Cursor, Heads, LoggedEvent
from projections.database import iso
from service.integrity import (
    Finding,
    _seal_finding,
    _verified,
    committed_form,
    event_name,
    heads_at,
    orders_root,
)

REMIND_AFTER = timedelta(hours=1)  # a refusal for the same reason is raised again after this


class CheckpointRefused(Exception):
    """The log did not verify, so nothing was signed; the refusal is kept with its reasons."""

    def __init__(self, failures: list[Finding]) -> None:
        shown = "; ".join(str(f) for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(
            f"checkpoint refused: {len(failures)} finding(s) in the log: {shown}{more}. "
            "Run `protection-orders verify-store` to see them all."
        )
        self.failures = failures


def latest_checkpoint(orders: Orders) -> ledger.Checkpoint | None:
    return orders.records.select_latest_checkpoint()


def make_checkpoint(orders: Orders, *, now: datetime) -> ledger.Checkpoint:
    """Sign a checkpoint over the log and keep it, but only after verifying each event it
    newly covers: its digest recomputed from its stored state and its chain, its seal. Over
    any failure nothing is signed; the refusal is kept, raised as an alarm, and raised as
    CheckpointRefused. Nothing new since the latest: that one is returned, at the cost of
    a few reads, none of them proportional to the log."""
    latest = latest_checkpoint(orders)
    cursor = None if latest is None else _cursor(orders, latest, now)
    if latest is None or cursor is None:
        return _from_the_whole_log(orders, latest, now)
    new = orders.records.select_log_events(after=(cursor.tx, cursor.position))
    if not new:
        return latest  # nothing new
    before = orders.records.select_checkpoint_heads(latest.size)
    if latest.orders_root is None or orders_root(before) != latest.orders_root:
        return _from_the_whole_log(orders, latest, now)
    heads, leaves, failures = _extend(orders, before, new)
    if failures:
        _refused(orders, failures, now)
    frontier = ledger.extended(cursor.frontier, leaves)
    checkpoint = orders.signer.checkpoint(
        latest.size + len(leaves),
        ledger.frontier_root(frontier),
        iso(now) or "",
        orders_root(heads),
    )
    last = new[-1]
    cursor = Cursor(last.position, (last.order_id, last.version), frontier, tx=last.tx)
    orders.records.insert_checkpoint(checkpoint, heads, before, _marked(orders, checkpoint, cursor))
    return latest_checkpoint(orders) or checkpoint  # another scheduler's, if it was first


def _cursor(orders: Orders, latest: ledger.Checkpoint, now: datetime) -> Cursor | None:
    """The latest checkpoint's cursor, if everything about it holds: the checkpoint is signed
    by this service, the cursor marked by it, its frontier has the tree's shape and folds to
    the signed root, and its event is still at its position. Else None: the next checkpoint
    looks at the whole log (and refuses, if anything was written around the service); a
    cursor altered around the service is also an alarm."""
    if not ledger.signature_holds(orders.signer.public_key(), latest):
        return None
    cursor = orders.records.select_cursor(latest.size)
    if cursor is None:
        return None
    if cursor.last is None or not hmac.compare_digest(cursor.mac, _mark(orders, latest, cursor)):
        reason = (
            f"checkpoint cursor: the cursor kept with the checkpoint of {latest.size} events "
            "is not the one the service wrote: it was altered around the service"
        )
        refuse(orders, "checkpoint cursor", reason, now=now)
        return None
    if not ledger.frontier_holds(cursor.frontier, latest.size):
        return None
    if ledger.frontier_root(cursor.frontier) != latest.root:
        return None
    entry = orders.records.select_entry_at(cursor.position)
    if entry is None or (entry.order_id, entry.version) != cursor.last:
        return None  # the log moved under the cursor: look at all of it
    return cursor


def _mark(orders: Orders, checkpoint: ledger.Checkpoint, cursor: Cursor) -> bytes:
    statement = cursor.statement(checkpoint.size, checkpoint.root)
    return hmac.new(orders.signer.seal_key, b"cursor\n" + statement, hashlib.sha256).digest()


def _marked(orders: Orders, checkpoint: ledger.Checkpoint, cursor: Cursor) -> Cursor:
    return replace(cursor, mac=_mark(orders, checkpoint, cursor))


def _extend(
    orders: Orders, before: Heads, new: list[LoggedEvent]
) -> tuple[Heads, list[bytes], list[Finding]]:
    """The heads and leaves the new events add to the checkpoint's, and what fails."""
    heads = dict(before)
    seals = {
        (s.order_id, s.version): s
        for s in orders.records.select_seals_of({e.order_id for e in new})
    }
    leaves, failures = [], []
    for event in new:
        order, version = event.order_id, event.version
        subject = f"order {order} event {version} ({event_name(event.topic)})"
        last_version, last_digest = heads.get(order, (0, ledger.GENESIS))
        if version != last_version + 1:
            failures.append(
                Finding(subject, False, f"follows event {last_version}: the chain is broken")
            )
        digest = ledger.event_digest(
            last_digest, order, version, event.topic, committed_form(orders, event)
        )
        found = _seal_finding(orders, subject, seals.get((order, version)), digest)
        if not found.holds:
            failures.append(found)
        heads[order] = (version, digest)
        leaves.append(ledger.leaf_hash(digest))
    return heads, leaves, failures


def _from_the_whole_log(
    orders: Orders, latest: ledger.Checkpoint | None, now: datetime
) -> ledger.Checkpoint:
    log = _verified(orders)
    failures = [f for f in log.findings if not f.holds]
    if failures:
        _refused(orders, failures, now)
    if latest is not None and latest.size == len(log.leaves):
        return latest  # nothing new (kept without a cursor, so it is looked at in full)
    heads = heads_at(log.heads, len(log.leaves))
    checkpoint = orders.signer.checkpoint(
        len(log.leaves), ledger.merkle_root(log.leaves), iso(now) or "", orders_root(heads)
    )
    before = heads_at(log.heads, latest.size) if latest is not None else {}
    last = log.heads[-1] if log.heads else None
    cursor = Cursor(
        log.place[1],
        None if last is None else last[:2],
        ledger.extended((), log.leaves),
        tx=log.place[0],
    )
    orders.records.insert_checkpoint(checkpoint, heads, before, _marked(orders, checkpoint, cursor))
    return latest_checkpoint(orders) or checkpoint


def _refused(orders: Orders, failures: list[Finding], now: datetime) -> None:
    refused = CheckpointRefused(failures)
    refuse(orders, "checkpoint refused", str(refused), now=now)
    raise refused


def refuse(orders: Orders, check: str, reason: str, *, now: datetime) -> bool:
    """Keep a refusal, and raise an alarm to the admins. `reason` starts with `check` (which
    check refused: "checkpoint refused", "witness <url>", "store check"). The scheduler
    retries every few seconds, so within REMIND_AFTER the same reason is not kept again and
    the same check raises no second alarm. Whether the refusal was kept."""
    recent = [
        why
        for at, why in orders.records.select_checkpoint_refusals()
        if now - datetime.fromisoformat(at) < REMIND_AFTER
    ]
    if reason in recent:
        return False
    orders.records.insert_checkpoint_refusal(iso(now) or "", reason)
    if not any(why.startswith(check) for why in recent):
        orders.save(IntegrityAlarm.raised(check, reason, at=now))
    return True
