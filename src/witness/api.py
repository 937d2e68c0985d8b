"""The witness's HTTP API: its latest countersigned checkpoint, its public key, and /cosign.

POST /cosign answers 200 with the countersignature, 409 with the reason the checkpoint is
refused (the log it signs does not extend what was countersigned, or no trusted key signed
it), 412 if the proof starts from another size than the witness's latest (ask again), 422 if
it is not a checkpoint and a proof, 413 if the body is over 16 KiB.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from api.limits import BodyLimit
from orders import ledger
from witness import rules
from witness.countersign import Witness
from witness.keys import fingerprint

MAX_BODY_BYTES = 16 * 1024
MAX_PROOF_HASHES = 64  # a consistency proof has at most about 2 log2(size) hashes


class CosignRequest(BaseModel):
    """A checkpoint as the service signed it, and the proof that it extends the witness's
    latest (RFC 9162 consistency proof from `from_size`, base64 hashes)."""

    checkpoint: dict[str, Any]
    from_size: int = Field(ge=0)
    proof: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=MAX_PROOF_HASHES
    )


def _witness(request: Request) -> Witness:
    witness: Witness = request.app.state.witness
    return witness


WitnessDep = Annotated[Witness, Depends(_witness)]


def create_app(witness: Witness) -> FastAPI:
    """The witness's API around one witness."""
    app = FastAPI(
        title="Protection-orders witness",
        description="Countersigns checkpoints that extend the last one it countersigned.",
    )
    app.state.witness = witness
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)

    @app.get("/latest")
    def latest(witness: WitnessDep) -> dict[str, Any]:
        """The latest checkpoint this witness countersigned, and its countersignature."""
        found = witness.store.latest()
        return found.as_json() if found else {"checkpoint": None, "cosignature": None}

    @app.get("/public-key")
    def public_key(witness: WitnessDep) -> dict[str, str]:
        """This witness's public key (base64) and its SHA-256 fingerprint."""
        key = witness.store.public_key
        return {"public_key": ledger.b64(key), "fingerprint": fingerprint(key)}

    @app.post("/cosign")
    def cosign(body: CosignRequest, witness: WitnessDep) -> dict[str, Any]:
        """Countersign a checkpoint that extends the latest one countersigned, or refuse it."""
        checkpoint, proof = _parsed(body)
        try:
            made = witness.countersign(checkpoint, from_size=body.from_size, proof=proof)
        except rules.Refused as refused:
            raise HTTPException(409, f"refused: {refused.reason}") from None
        except rules.Stale as stale:
            raise HTTPException(412, str(stale)) from None
        return made.as_json()

    return app


def _parsed(body: CosignRequest) -> tuple[ledger.Checkpoint, list[bytes]]:
    try:
        checkpoint = ledger.Checkpoint.from_json(body.checkpoint)
        proof = [base64.b64decode(p, validate=True) for p in body.proof]
    except (KeyError, ValueError, TypeError, binascii.Error):
        raise HTTPException(
            422, "send a checkpoint as the service signed it and base64 hashes as the proof"
        ) from None
    if any(len(p) != 32 for p in proof):
        raise HTTPException(422, "each hash of the proof is 32 bytes (SHA-256), base64")
    return checkpoint, proof
