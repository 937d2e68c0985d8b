"""The witness's rules, its countersignature and its store, without a process or a service."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from orders import ledger
from orders.cosignatures import cosign
from witness.countersign import Witness
from witness.rules import Refused, Stale, judge
from witness.store import DB_FILE, WitnessStore

SERVICE = ledger.Signer(bytes(range(32)))
LEAVES = [ledger.leaf_hash(hashlib.sha256(bytes([i])).digest()) for i in range(12)]


def checkpoint(
    size: int, leaves: list[bytes] = LEAVES, at: str = "2026-03-02T09:00:00+00:00"
) -> ledger.Checkpoint:
    return SERVICE.checkpoint(size, ledger.merkle_root(leaves[:size]), at)


def judged(new: ledger.Checkpoint, latest: ledger.Checkpoint | None, **changes: object) -> bool:
    """The judgement, by default with the honest proof from `latest` and the service trusted."""
    honest = latest is not None and 0 < latest.size < new.size
    arguments: dict[str, object] = {
        "from_size": 0 if latest is None else latest.size,
        "proof": ledger.consistency_proof(latest.size, LEAVES[: new.size]) if honest else [],
        "latest": latest,
        "trusted": [SERVICE.public_key()],
    }
    return judge(new, **(arguments | changes))  # type: ignore[arg-type]


def test_the_first_checkpoint_is_taken_and_each_that_extends_it_after() -> None:
    assert judged(checkpoint(3), None)
    for old, new in ((3, 4), (3, 12), (1, 2), (4, 8), (0, 5)):
        assert judged(checkpoint(new), checkpoint(old))


def test_the_latest_again_is_not_countersigned_twice() -> None:
    assert judged(checkpoint(5), checkpoint(5)) is False


def test_a_checkpoint_no_trusted_key_signed_is_refused_and_not_evidence() -> None:
    other = ledger.Signer(os.urandom(32)).checkpoint(3, ledger.merkle_root(LEAVES[:3]), "t")
    with pytest.raises(Refused, match="does not hold for any service key") as refused:
        judged(other, None)
    assert not refused.value.evidence
    with pytest.raises(Refused):
        judged(checkpoint(3), None, trusted=[])


def test_fewer_events_than_countersigned_is_a_rollback() -> None:
    with pytest.raises(Refused, match="fewer than the 8") as refused:
        judged(checkpoint(5), checkpoint(8), from_size=8, proof=[])
    assert refused.value.evidence


def test_a_rewritten_log_is_refused_at_the_same_size_and_beyond() -> None:
    rewritten = [*LEAVES[:2], ledger.leaf_hash(b"forged"), *LEAVES[3:]]
    with pytest.raises(Refused, match="another root"):
        judged(checkpoint(6, rewritten), checkpoint(6))
    with pytest.raises(Refused, match="not consistent with the checkpoint of 6"):
        judged(
            checkpoint(9, rewritten),
            checkpoint(6),
            proof=ledger.consistency_proof(6, rewritten[:9]),
        )
    with pytest.raises(Refused, match="not consistent"):  # a proof for another size
        judged(checkpoint(9), checkpoint(6), proof=ledger.consistency_proof(5, LEAVES[:9]))


def test_a_proof_from_another_size_is_stale_not_refused() -> None:
    with pytest.raises(Stale, match="ask GET /latest"):
        judged(checkpoint(9), checkpoint(6), from_size=4)
    with pytest.raises(Stale, match="send a newer one"):  # the same log, signed again later
        judged(checkpoint(6, at="2026-03-02T10:00:00+00:00"), checkpoint(6))


def test_a_countersignature_binds_the_checkpoint_and_the_witness_time() -> None:
    witness_key = os.urandom(32)
    made = cosign(witness_key, checkpoint(5), "2026-03-02T09:01:00+00:00")
    assert made.holds_for(checkpoint(5))
    assert not made.holds_for(checkpoint(6))
    assert not replace(made, cosigned_at="2026-03-02T09:02:00+00:00").holds_for(checkpoint(5))
    # neither signature passes for the other: the witness's is over a statement of its own
    as_service = replace(checkpoint(5), signature=made.signature)
    assert not ledger.signature_holds(made.witness_key, as_service)


def test_the_store_keeps_its_key_private_and_its_history_for_good(tmp_path: Path) -> None:
    store = WitnessStore.initialise(tmp_path / "witness")
    assert (tmp_path / "witness" / "witness.key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        WitnessStore.initialise(tmp_path / "witness")
    assert store.trust(SERVICE.public_key(), at="t") and not store.trust(
        SERVICE.public_key(), at="t"
    )
    witness = Witness(store)
    witness.countersign(checkpoint(3), from_size=0, proof=[])
    with pytest.raises(Refused):
        witness.countersign(checkpoint(2), from_size=3, proof=[])
    assert [c.checkpoint.size for c in store.history()] == [3]
    assert [r.checkpoint for r in store.refusals()] == [checkpoint(2)]
    db = sqlite3.connect(tmp_path / "witness" / DB_FILE)
    for table in ("cosigned", "refusals", "trusted_keys"):
        for statement in (f"UPDATE {table} SET rowid = rowid", f"DELETE FROM {table}"):
            with pytest.raises(sqlite3.DatabaseError, match="kept for good"):
                db.execute(statement)
    db.close()
