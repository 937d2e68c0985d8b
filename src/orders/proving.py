"""The order's decisions about proof of presence: who may prove visits, and what a code shows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from orders import errors, events
from orders.policy import Policy
from orders.presence import PresenceProof, Proof, ProofKind, Tolerance, UsedCodes, check
from orders.values import Actor, Status

if TYPE_CHECKING:
    from orders.values import Request


class PresenceDecisions(Aggregate):
    """Enrolling a protected person's proof of presence, and checking the codes she gives."""

    status: Status
    request: Request
    proofs: tuple[PresenceProof, ...]
    used_codes: UsedCodes

    def enrol_presence_proof(
        self, person_id: str, kind: ProofKind, *, by: Actor, at: datetime, policy: Policy
    ) -> UUID:
        """Give a protected person of an order in force a new way to prove visits (her last
        one, if any, is revoked from now: a phone taken, a card lost). Its id."""
        if self.status is not Status.ISSUED:
            raise errors.OrderNotInForce("the order is not in force")
        if person_id not in {p.person_id for p in self.request.protected_persons}:
            raise errors.InvalidInput("person_id", "is not a protected person of this order")
        codes = policy.presence.card_codes if kind is ProofKind.CARD else 0
        proof = PresenceProof(uuid4(), person_id, kind, at, codes=codes)
        self.trigger_event(events.PresenceProofEnrolled, timestamp=at, actor=by, proof=proof)
        return proof.proof_id

    def prove(
        self,
        code: str | None,
        claimed_at: datetime,
        secrets: Mapping[UUID, str],
        policy: Policy,
        *,
        at: datetime,
    ) -> Proof | None:
        """What a code given for a visit claimed at `claimed_at`, reported `at`, shows (None:
        none given)."""
        if code is None:
            return None
        rules = policy.presence
        tolerance = Tolerance(rules.near, rules.lookaround, rules.card_codes)
        return check(
            code, claimed_at, self.proofs, secrets, self.used_codes, tolerance, recorded_at=at
        )
