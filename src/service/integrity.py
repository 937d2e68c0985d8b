"""Checks of the whole store (checkpoints: service.checkpoints; bundles: service.bundles)."""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from orders import ledger
from orders.application import Orders
from orders.commitments import committed_state
from orders.records import LogEntry, LoggedEvent, Seal, as_recorded


@dataclass(frozen=True)
class Finding:
    """What holds or fails about one event (or the log as a whole)."""

    subject: str
    holds: bool
    detail: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.holds else 'FAIL'} {self.subject}: {self.detail}"


Seals = dict[tuple[UUID, int], Seal]


def _seals(orders: Orders) -> Seals:
    return {(s.order_id, s.version): s for s in orders.records.select_seals()}


def _sealed(orders: Orders) -> list[tuple[LogEntry, Seal]]:
    """Every sealed event in log order, with its seal: the leaves of the signed tree."""
    seals = _seals(orders)
    return [
        (entry, seals[entry.order_id, entry.version])
        for entry in orders.records.select_log()
        if (entry.order_id, entry.version) in seals
    ]


def plain(orders: Orders, state: bytes) -> bytes:
    """A stored state as recorded: decrypted, decompressed, if the store does either."""
    return as_recorded(state, orders.mapper.cipher, orders.mapper.compressor)


def committed_form(orders: Orders, event: LoggedEvent) -> bytes:
    """What a stored event's digest covers: its state with sensitive values committed to (a
    state that cannot be decrypted as it stands: so its digest shows it altered)."""
    try:
        recorded = plain(orders, event.state)
    except Exception:  # a damaged ciphertext is a finding, not a crash
        return event.state
    return committed_state(orders.signer.seal_key, event.order_id, event.version, recorded)


def verify_store(orders: Orders) -> list[Finding]:
    """Check every stored event's seal and chain, and the log against the latest checkpoint."""
    return _verified(orders).findings


Head = tuple[UUID, int, bytes]  # an order, one of its events' versions, and that digest


@dataclass
class _Log:
    """What holds or fails in the store, and the signed trees' leaves recomputed from it."""

    findings: list[Finding]
    leaves: list[bytes]  # the log tree's, one per sealed event in log order
    heads: list[Head]  # beside each leaf: its event, for the orders tree
    place: tuple[int, int]  # the log place (transaction, position) of the last event


def heads_at(heads: list[Head], size: int) -> dict[UUID, tuple[int, bytes]]:
    """Each order's latest event among the log's first `size`, orders as they first appear."""
    latest: dict[UUID, tuple[int, bytes]] = {}
    for order, version, digest in heads[:size]:
        latest[order] = (version, digest)
    return latest


def orders_root(latest: dict[UUID, tuple[int, bytes]]) -> bytes:
    """The root of the orders tree over each order's head."""
    return ledger.merkle_root([ledger.head_leaf(o, v, d) for o, (v, d) in latest.items()])


def _verified(orders: Orders) -> _Log:
    findings: list[Finding] = []
    previous: dict[UUID, tuple[int, bytes]] = {}
    leaves: list[bytes] = []
    heads: list[Head] = []
    seals = _seals(orders)
    place = (0, 0)
    enrolled: list[LoggedEvent] = []
    for event in orders.records.select_log_events():
        place = (event.tx, event.position)
        if event.topic.endswith("PresenceProofEnrolled"):
            enrolled.append(event)
        order, version = event.order_id, event.version
        subject = f"order {order} event {version} ({event_name(event.topic)})"
        last_version, last_digest = previous.get(order, (0, ledger.GENESIS))
        if version != last_version + 1:
            findings.append(
                Finding(
                    subject,
                    False,
                    f"follows event {last_version}: "
                    f"events {last_version + 1}..{version - 1} are missing",
                )
            )
        digest = ledger.event_digest(
            last_digest, order, version, event.topic, committed_form(orders, event)
        )
        previous[order] = (version, digest)
        seal = seals.get((order, version))
        if seal is not None:  # the signed tree holds sealed events only
            leaves.append(ledger.leaf_hash(digest))
            heads.append((order, version, digest))
        findings.append(_seal_finding(orders, subject, seal, digest))
    findings.extend(_removed(seals, previous))
    findings.extend(_vault_findings(orders, enrolled))
    findings.extend(_checkpoint_findings(orders, leaves, heads))
    return _Log(findings, leaves, heads, place)


def _vault_findings(orders: Orders, enrolled: list[LoggedEvent]) -> list[Finding]:
    """Each enrolled proof of presence has its secret in the vault, and it decrypts."""
    findings = []
    for event in enrolled:
        subject = f"order {event.order_id} event {event.version} (PresenceProofEnrolled)"
        try:
            stored = StoredEvent(event.order_id, event.version, event.topic, event.state)
            proof_id = orders.mapper.to_domain_event(stored).proof.proof_id  # type: ignore[attr-defined]
        except Exception:  # an event that does not decode is named by its seal already
            continue
        if proof_id not in orders.vault.secrets(event.order_id):
            findings.append(
                Finding(
                    subject,
                    False,
                    f"the secret of proof {proof_id} is missing from the vault or does not "
                    "decrypt: her codes cannot be checked; enrol her again",
                )
            )
    return findings


def _seal_finding(orders: Orders, subject: str, seal: Seal | None, digest: bytes) -> Finding:
    if seal is None:
        return Finding(subject, False, "has no seal: it was written around the service")
    try:
        marked, kept = ledger.unb64(seal.seal), ledger.unb64(seal.digest)
    except (ValueError, binascii.Error):
        return Finding(subject, False, "its seal is damaged: it was altered around the service")
    if marked != ledger.seal(orders.signer.seal_key, kept):
        return Finding(subject, False, "its seal was not made by this service")
    if kept != digest:
        return Finding(subject, False, "its content or its place in the chain was altered")
    return Finding(subject, True, "sealed, content and chain intact")


def _removed(seals: Seals, present: dict[UUID, tuple[int, bytes]]) -> list[Finding]:
    sealed: dict[UUID, int] = {}
    for order, version in seals:
        sealed[order] = max(sealed.get(order, 0), version)
    return [
        Finding(
            f"order {order}",
            False,
            f"sealed up to event {top}, but the store ends at event "
            f"{present.get(order, (0, b''))[0]}: events were removed",
        )
        for order, top in sealed.items()
        if present.get(order, (0, b""))[0] < top
    ]


def _checkpoint_findings(orders: Orders, leaves: list[bytes], heads: list[Head]) -> list[Finding]:
    """The whole series of checkpoints against the log as it stands: each signed by this
    service and each the tree hash of a prefix of the log, which makes every two of them
    consistent (what a witness, without the log, checks with RFC 9162 consistency proofs).
    The latest also names each order's latest event. One pass over the log, however many
    checkpoints there are."""
    series = orders.records.select_checkpoints()
    if not series:
        return [Finding("log", True, "no checkpoint signed yet")]
    roots = ledger.prefix_roots(leaves, {c.size for c in series})
    findings = [_checkpoint_finding(orders, c, len(leaves), roots.get(c.size)) for c in series]
    failed = [c for c, found in zip(series, findings, strict=True) if not found.holds]
    named = [f for c in {*failed[:1], series[-1]} for f in _heads_findings(orders, c, heads)]
    return findings + sorted(set(named), key=str)  # by the first that failed, and the latest


def _heads_findings(
    orders: Orders, checkpoint: ledger.Checkpoint, heads: list[Head]
) -> list[Finding]:
    """What the orders' heads kept with a checkpoint (authenticated by its signed orders
    root) say of the log as it stands: per order, events removed, replaced or inserted."""
    if checkpoint.orders_root is None:
        return []
    signed = orders.records.select_checkpoint_heads(checkpoint.size)
    subject = f"checkpoint of {checkpoint.size} events signed at {checkpoint.signed_at}"
    if orders_root(signed) != checkpoint.orders_root:
        return [Finding(subject, False, "the orders' heads kept with it were altered or removed")]
    now = heads_at(heads, checkpoint.size)
    latest = heads_at(heads, len(heads))
    found = []
    for order, (version, digest) in signed.items():
        held, at = now.get(order, (0, b"")), latest.get(order, (0, b""))[0]
        if held[0] < version:
            found.append(
                Finding(
                    f"order {order}",
                    False,
                    f"the checkpoint of {checkpoint.size} events signed its events up to "
                    f"{version}; the log held {held[0]} of them there (and {at} now): "
                    f"{_span(held[0] + 1, version)} removed"
                    + (", and replaced by later ones" if at >= version else ""),
                )
            )
        elif held[0] > version:
            found.append(
                Finding(
                    f"order {order}",
                    False,
                    f"the checkpoint of {checkpoint.size} events signed its events up to "
                    f"{version}; the log holds {held[0]} of them there: events were inserted",
                )
            )
        elif held[1] != digest:
            found.append(
                Finding(
                    f"order {order} event {version}",
                    False,
                    f"is not the event the checkpoint of {checkpoint.size} events signed: it, "
                    "or an event before it, was altered or replaced",
                )
            )
    return found


def _checkpoint_finding(
    orders: Orders, checkpoint: ledger.Checkpoint, present: int, root: bytes | None
) -> Finding:
    subject = f"checkpoint of {checkpoint.size} events signed at {checkpoint.signed_at}"
    if not ledger.signature_holds(orders.signer.public_key(), checkpoint):
        return Finding(subject, False, "bad signature: not signed by this service's key")
    if root is None:
        return Finding(
            subject,
            False,
            f"the signed log held {checkpoint.size} events; only {present} remain: "
            "events were removed or an older copy of the database restored",
        )
    if root != checkpoint.root:
        return Finding(
            subject,
            False,
            f"the first {checkpoint.size} events no longer match the signed checkpoint: the "
            "log was rewritten, reordered or rolled back",
        )
    return Finding(subject, True, f"the first {checkpoint.size} events match it")


def _span(first: int, last: int) -> str:
    return f"event {first} was" if first == last else f"events {first}..{last} were"


def event_name(topic: str) -> str:
    """An event's name from its topic: `orders.events:Issued` and older spellings alike."""
    return topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
