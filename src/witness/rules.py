"""When a witness countersigns a checkpoint, and why it refuses one. Pure: no store, no clock.

A checkpoint is countersigned only if a service key the witness trusts signed it and it
extends the last checkpoint countersigned: at least as many events, and an RFC 9162
consistency proof from that one's size (the first checkpoint is taken as it comes).
"""

from __future__ import annotations

from collections.abc import Iterable

from orders import ledger
from witness.keys import fingerprint


class Refused(Exception):
    """The checkpoint does not extend what was countersigned, or no trusted key signed it.

    `evidence`: the service's own key signed it, so the refusal is kept with the checkpoint
    (a signed statement of a log that contradicts the witness's history). A checkpoint no
    trusted key signed is refused but not kept: anyone who reaches the witness could send one.
    """

    def __init__(self, reason: str, *, evidence: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = evidence


class Stale(Exception):
    """The proof starts from another size than the witness's latest (another sender was
    first): nothing is wrong with the log; ask for the latest again and prove from there."""


def judge(
    checkpoint: ledger.Checkpoint,
    *,
    from_size: int,
    proof: list[bytes],
    latest: ledger.Checkpoint | None,
    trusted: Iterable[bytes],
) -> bool:
    """Whether to countersign `checkpoint` (True), or it is the latest already (False);
    raises Refused or Stale otherwise."""
    keys = list(trusted)
    if not any(ledger.signature_holds(key, checkpoint) for key in keys):
        known = ", ".join(fingerprint(key) for key in keys) or "none"
        raise Refused(
            "its signature does not hold for any service key this witness trusts "
            f"(trusted: {known})",
            evidence=False,
        )
    if latest is None:
        return True
    if from_size != latest.size:
        raise Stale(
            f"the proof starts from {from_size} events, but this witness last countersigned "
            f"{latest.size}; ask GET /latest and prove from there"
        )
    if checkpoint.size < latest.size:
        raise Refused(
            f"it holds {checkpoint.size} events, fewer than the {latest.size} this witness "
            f"countersigned (signed at {latest.signed_at}): the service's log was rolled back "
            "or events were removed",
            evidence=True,
        )
    if checkpoint.size == latest.size:
        return _same_size(checkpoint, latest)
    if latest.size == 0:  # every log extends the empty one
        return True
    if not ledger.consistency_holds(
        latest.size, checkpoint.size, latest.root, checkpoint.root, proof
    ):
        raise Refused(
            f"it is not consistent with the checkpoint of {latest.size} events this witness "
            f"countersigned (signed at {latest.signed_at}): the service's log was rewritten, "
            "reordered or rolled back",
            evidence=True,
        )
    return True


def _same_size(checkpoint: ledger.Checkpoint, latest: ledger.Checkpoint) -> bool:
    if checkpoint.root != latest.root:
        raise Refused(
            f"it gives the first {latest.size} events another root than the checkpoint this "
            f"witness countersigned (signed at {latest.signed_at}): the service's log was "
            "rewritten",
            evidence=True,
        )
    if checkpoint.statement() != latest.statement():
        raise Stale(
            f"this witness already countersigned a checkpoint of {latest.size} events "
            f"(signed at {latest.signed_at}); send a newer one"
        )
    return False
