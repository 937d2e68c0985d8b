"""The vault of proof-of-presence secrets (decision 019)."""

from __future__ import annotations

import logging
from uuid import UUID

from orders import presence
from orders.records import Records

log = logging.getLogger(__name__)


class SealedVault:
    """The vault of proof-of-presence secrets: kept beside the events, each encrypted with a
    key derived from the service's signing key and bound to its proof."""

    def __init__(self, records: Records, key: bytes) -> None:
        self.records, self.key = records, key

    def secrets(self, order_id: UUID) -> dict[UUID, str]:
        """The order's secrets that decrypt; one that does not (altered or damaged around the
        service) is left out, so codes of it are unverifiable, and verify-store names it."""
        opened = {}
        for proof_id, sealed in self.records.select_presence_secrets(order_id).items():
            try:
                opened[proof_id] = presence.open_secret(self.key, proof_id, sealed)
            except Exception:
                log.warning("presence secret %s of order %s does not decrypt", proof_id, order_id)
        return opened

    def keep(self, order_id: UUID, proof_id: UUID, secret: str) -> None:
        sealed = presence.seal_secret(self.key, proof_id, secret)
        self.records.insert_presence_secret(order_id, proof_id, sealed)
