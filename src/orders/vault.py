"""The vault of proof-of-presence secrets (decision 019)."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Collection
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from orders.records import Records

log = logging.getLogger(__name__)


class SealedVault:
    """The vault of proof-of-presence secrets: kept beside the events, each encrypted with a
    key derived from the service's signing key and bound to its proof.

    The vault is only ever added to (its table refuses changes), so the sealed secrets this
    process read or kept stay true: a visit's code is checked without reading them again,
    unless the order names a proof whose secret this process has not seen (decision 026)."""

    KEPT = 100_000  # orders whose sealed secrets are kept; past that, all forgotten at once

    def __init__(self, records: Records, key: bytes) -> None:
        self.records, self.key = records, key
        self._sealed: dict[UUID, dict[UUID, str]] = {}

    def secrets(self, order_id: UUID, proofs: Collection[UUID] | None = None) -> dict[UUID, str]:
        """The order's secrets that decrypt; one that does not (altered or damaged around the
        service) is left out, so codes of it are unverifiable, and verify-store names it.
        With `proofs`, the ones a decision needs: read only if one of them was not seen here."""
        sealed = self._sealed.get(order_id)
        if proofs is None or sealed is None or not all(p in sealed for p in proofs):
            sealed = self.records.select_presence_secrets(order_id)
            self._remember(order_id, sealed)
        opened = {}
        for proof_id, one in sealed.items():
            try:
                opened[proof_id] = open_secret(self.key, proof_id, one)
            except Exception:
                log.warning("presence secret %s of order %s does not decrypt", proof_id, order_id)
        return opened

    def keep(self, order_id: UUID, proof_id: UUID, secret: str) -> None:
        sealed = seal_secret(self.key, proof_id, secret)
        self.records.insert_presence_secret(order_id, proof_id, sealed)
        self._remember(order_id, {**self._sealed.get(order_id, {}), proof_id: sealed})

    def _remember(self, order_id: UUID, sealed: dict[UUID, str]) -> None:
        if len(self._sealed) >= self.KEPT:
            self._sealed.clear()
        self._sealed[order_id] = sealed


def seal_secret(key: bytes, proof_id: UUID, secret: str) -> str:
    """A secret encrypted for the vault (AES-GCM, bound to its proof's id)."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), proof_id.bytes)
    return base64.b64encode(nonce + sealed).decode()


def open_secret(key: bytes, proof_id: UUID, sealed: str) -> str:
    """A vault's secret decrypted; raises if it was altered or moved to another proof."""
    raw = base64.b64decode(sealed)
    return AESGCM(key).decrypt(raw[:12], raw[12:], proof_id.bytes).decode()
