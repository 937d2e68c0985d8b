"""A witness's countersignature of a checkpoint: the statement it signs, and checking it.

A witness (another institution, `witness` package) countersigns a checkpoint only after it has
checked that the checkpoint extends the last one it countersigned. Its Ed25519 signature is
over a domain-separated statement: a fixed first line, the checkpoint's own signed statement,
then the witness's clock when it countersigned, so neither signature can pass for the other.
Pure, like orders.ledger: a prosecutor's verifier runs it offline.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from orders import ledger

DOMAIN = b"protection-orders witness cosignature\n"


@dataclass(frozen=True)
class Cosignature:
    """A witness's signature over one checkpoint, made at `cosigned_at` by its clock."""

    witness_key: bytes
    cosigned_at: str
    signature: bytes

    def holds_for(self, checkpoint: ledger.Checkpoint) -> bool:
        """Whether this is the witness's signature over exactly this checkpoint."""
        try:
            Ed25519PublicKey.from_public_bytes(self.witness_key).verify(
                self.signature, statement(checkpoint, self.cosigned_at)
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_json(self) -> dict[str, str]:
        return {
            "witness_key": ledger.b64(self.witness_key),
            "cosigned_at": self.cosigned_at,
            "signature": ledger.b64(self.signature),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Cosignature:
        return cls(
            ledger.unb64(str(data["witness_key"])),
            str(data["cosigned_at"]),
            ledger.unb64(str(data["signature"])),
        )


def statement(checkpoint: ledger.Checkpoint, cosigned_at: str) -> bytes:
    """What a witness signs: the checkpoint's statement (one line of JSON) and its own time."""
    return DOMAIN + checkpoint.statement() + b"\n" + cosigned_at.encode()


def cosign(private_key: bytes, checkpoint: ledger.Checkpoint, cosigned_at: str) -> Cosignature:
    """The witness's countersignature of `checkpoint`, with its private key."""
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return Cosignature(public, cosigned_at, key.sign(statement(checkpoint, cosigned_at)))
