"""Witnesses at other institutions countersign our checkpoints (decision 017): send them the
latest with a consistency proof, keep their countersignatures, and name any contradiction
between a witness's history and this store (a rollback behind the witness's back).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from orders import ledger
from orders.application import Orders
from orders.cosignatures import Cosignature
from service.checkpoints import latest_checkpoint, refuse
from service.integrity import Finding, _sealed, _verified
from service.witness_client import (
    Unreachable,
    WitnessClient,
    WitnessRefused,
    WitnessStale,
    shown,
)
from witness.keys import fingerprint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one witness made of our latest checkpoint: `settled` if there is nothing more to
    send it until a newer checkpoint (countersigned, or refused for good)."""

    witness: str
    detail: str
    settled: bool
    refused: bool = False
    unreachable: bool = False  # logged as a warning already

    def __str__(self) -> str:
        return f"witness {self.witness} {self.detail}"


Settled = dict[str, bytes]
"""Per witness URL, the statement of the checkpoint last settled with it (the scheduler's memo)."""


def send_to_witnesses(
    orders: Orders,
    urls: list[str],
    *,
    now: datetime,
    timeout: float,
    settled: Settled | None = None,
) -> list[Outcome]:
    """Send our latest checkpoint to each witness that has not settled it, with the proof that
    it extends the witness's latest; keep each countersignature, and each refusal or
    contradiction (a checkpoint refusal starting "witness <url>"). A witness that cannot be
    reached is logged and tried again next time."""
    ours = latest_checkpoint(orders)
    if ours is None:
        return []
    leaves = [ledger.leaf_hash(ledger.unb64(seal.digest)) for _, seal in _sealed(orders)]
    outcomes = []
    for url in urls:
        if settled is not None and settled.get(url) == ours.statement():
            continue
        outcome = _send(orders, WitnessClient(url, timeout=timeout), ours, leaves, now)
        if outcome.settled and settled is not None:
            settled[url] = ours.statement()
        outcomes.append(outcome)
    return outcomes


def _send(
    orders: Orders,
    client: WitnessClient,
    ours: ledger.Checkpoint,
    leaves: list[bytes],
    now: datetime,
) -> Outcome:
    witness = shown(client.url)
    try:
        theirs = client.latest()
        if theirs is not None and theirs[0].statement() == ours.statement():
            _keep(orders, ours, theirs[1])
            return Outcome(witness, f"countersigned {ours.size} events already", settled=True)
        ours_too = theirs is not None and ledger.signature_holds(
            orders.signer.public_key(), theirs[0]
        )  # what another key signed (before a rotation, or a forgery) is the witness's to judge
        contradiction = _contradiction(theirs, leaves) if theirs and ours_too else None
        if contradiction:
            refuse(orders, f"witness {witness}", f"witness {witness}: {contradiction}", now=now)
        elif theirs is not None and theirs[0].size > ours.size:  # another process was first
            return Outcome(witness, f"countersigned {theirs[0].size} events already", False)
        from_size = 0 if theirs is None else theirs[0].size
        answer = client.cosign(ours, from_size=from_size, proof=_proof(from_size, ours, leaves))
        cosignature = Cosignature.from_json(answer["cosignature"])
    except Unreachable as e:
        log.warning("witness %s could not be asked (%s); trying again next time", witness, e)
        detail = f"could not be asked ({e}); trying again next time"
        return Outcome(witness, detail, settled=False, unreachable=True)
    except WitnessStale:
        return Outcome(witness, "moved on meanwhile; trying again next time", settled=False)
    except WitnessRefused as e:
        reason = (
            f"witness {witness} refused the checkpoint of {ours.size} events signed at "
            f"{ours.signed_at}: {e}"
        )
        refuse(orders, f"witness {witness}", reason, now=now)
        return Outcome(witness, f"REFUSED the checkpoint of {ours.size} events: {e}", True, True)
    except (KeyError, ValueError, TypeError) as e:
        log.warning("witness %s answered no countersignature (%s)", witness, type(e).__name__)
        return Outcome(witness, "answered no countersignature; trying again next time", False)
    if not cosignature.holds_for(ours):
        log.warning("witness %s answered a countersignature that does not hold", witness)
        return Outcome(witness, "answered a countersignature that does not hold", False)
    _keep(orders, ours, cosignature)
    return Outcome(
        witness,
        f"{fingerprint(cosignature.witness_key)[:16]} countersigned {ours.size} events at "
        f"{cosignature.cosigned_at}",
        settled=True,
    )


def _keep(orders: Orders, checkpoint: ledger.Checkpoint, cosignature: Cosignature) -> None:
    if cosignature.holds_for(checkpoint):
        orders.records.insert_checkpoint_cosignature(checkpoint.size, cosignature)


def _proof(from_size: int, ours: ledger.Checkpoint, leaves: list[bytes]) -> list[bytes]:
    """The consistency proof from the witness's size to ours, or none if our log cannot give
    one (the witness then refuses, and keeps that it was asked)."""
    if not 0 < from_size < ours.size <= len(leaves):
        return []
    return ledger.consistency_proof(from_size, leaves[: ours.size])


def _contradiction(
    theirs: tuple[ledger.Checkpoint, Cosignature], leaves: list[bytes]
) -> str | None:
    """How this store contradicts what the witness countersigned, if it does."""
    checkpoint, at = theirs[0], theirs[1].cosigned_at
    if checkpoint.size > len(leaves):
        return (
            f"the witness countersigned {checkpoint.size} events at {at}; this store holds "
            f"{len(leaves)}: an older copy was restored or events removed"
        )
    if ledger.merkle_root(leaves[: checkpoint.size]) != checkpoint.root:
        return (
            f"the witness countersigned {checkpoint.size} events at {at}; this store's first "
            f"{checkpoint.size} events are not those: the log was rewritten or an older copy "
            "restored"
        )
    return None


def verify_with_witnesses(
    orders: Orders, witnesses: list[tuple[str, bytes | None]], *, timeout: float
) -> list[Finding]:
    """verify-store's findings, and for each witness (URL, key) whether the store holds what
    it countersigned last: signed by this service, countersigned with the witness's key (the
    one given, else the one it serves), and the first events of the log as they stand."""
    log = _verified(orders)
    findings, leaves = log.findings, log.leaves
    for url, key in witnesses:
        subject = f"witness {shown(url)}"
        client = WitnessClient(url, timeout=timeout)
        try:
            theirs = client.latest()
            key = key if key is not None else client.public_key()
        except Unreachable as e:
            detail = f"could not be asked ({e}); check the URL and that the witness runs"
            findings.append(Finding(subject, False, detail))
            continue
        findings.append(_witness_finding(orders, subject, key, theirs, leaves))
    return findings


def _witness_finding(
    orders: Orders,
    subject: str,
    key: bytes,
    theirs: tuple[ledger.Checkpoint, Cosignature] | None,
    leaves: list[bytes],
) -> Finding:
    if theirs is None:
        return Finding(subject, True, "has countersigned nothing yet: nothing to compare")
    checkpoint, cosignature = theirs
    if cosignature.witness_key != key or not cosignature.holds_for(checkpoint):
        return Finding(
            subject,
            False,
            f"its latest countersignature does not hold for witness key {fingerprint(key)}: "
            "check the URL and the witness's fingerprint with its institution",
        )
    if not ledger.signature_holds(orders.signer.public_key(), checkpoint):
        return Finding(subject, False, "countersigned a checkpoint this service's key did not sign")
    contradiction = _contradiction(theirs, leaves)
    if contradiction:
        return Finding(subject, False, contradiction)
    return Finding(
        subject,
        True,
        f"countersigned {checkpoint.size} events at {cosignature.cosigned_at}; this store's "
        f"first {checkpoint.size} events are those",
    )
