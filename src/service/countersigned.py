"""A case bundle's witnesses: the countersignatures its checkpoint carries, and, when the
verifier names the witnesses it trusts, whether one of them countersigned that checkpoint."""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from typing import Any

from orders import ledger
from orders.application import Orders
from orders.cosignatures import Cosignature
from service.integrity import Finding
from witness.keys import fingerprint

SUBJECT = "witness"


def cosignatures_of(orders: Orders, checkpoint: ledger.Checkpoint | None) -> list[dict[str, str]]:
    """The countersignatures kept for `checkpoint`, as a bundle carries them."""
    if checkpoint is None:
        return []
    return [c.as_json() for c in orders.records.select_checkpoint_cosignatures(checkpoint.size)]


def check_cosignatures(
    bundle: dict[str, Any], checkpoint: ledger.Checkpoint | None, witness_keys: Iterable[bytes]
) -> tuple[list[Finding], str]:
    """With trusted witness keys: one finding (a trusted witness countersigned the bundle's
    checkpoint, or why not) and the verdict's phrase; without: nothing."""
    trusted = {fingerprint(key): key for key in witness_keys}
    if not trusted:
        return [], ""
    carried = _carried(bundle)
    if checkpoint is None or carried is None:
        return [
            _fails(
                "the bundle's countersignatures cannot be read: ask for the file "
                "`protection-orders export` wrote"
            )
        ], ""
    for cosignature in carried:
        fp = fingerprint(cosignature.witness_key)
        if fp in trusted and cosignature.holds_for(checkpoint):
            phrase = f", countersigned by witness {fp} at {cosignature.cosigned_at}"
            return [Finding(SUBJECT, True, phrase.removeprefix(", "))], phrase
    wanted = ", ".join(sorted(trusted))
    by_trusted = [c for c in carried if fingerprint(c.witness_key) in trusted]
    if by_trusted:
        return [
            _fails(
                f"the countersignature of witness {fingerprint(by_trusted[0].witness_key)} "
                "does not hold for this checkpoint: it was edited, or made for another checkpoint"
            )
        ], ""
    if carried:
        others = ", ".join(sorted({fingerprint(c.witness_key) for c in carried}))
        return [
            _fails(
                f"the checkpoint is countersigned only by witness {others}, not by a trusted "
                f"witness ({wanted}): check the --witness-key given"
            )
        ], ""
    return [
        _fails(
            f"the checkpoint carries no countersignature: export again once a trusted witness "
            f"({wanted}) has countersigned it (`protection-orders witness send`)"
        )
    ], ""


def _carried(bundle: dict[str, Any]) -> list[Cosignature] | None:
    try:
        return [Cosignature.from_json(c) for c in bundle.get("cosignatures") or []]
    except (KeyError, ValueError, TypeError, AttributeError, binascii.Error):
        return None


def _fails(detail: str) -> Finding:
    return Finding(SUBJECT, False, detail)
