"""Commands about proof of presence: enrolling a protected person's codes."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from orders.commands.base import SW, Command, Context
from orders.domain import ProtectionOrder
from orders.inputs import PersonId
from orders.presence import ProofKind, new_secret


@dataclass(frozen=True)
class NewProof:
    """A proof just enrolled, with its secret: shown to her once, then only in the vault."""

    proof_id: UUID
    secret: str


class EnrolPresenceProof(Command):
    """Give a protected person codes to prove visits (an app or a printed card); a new one replaces her last."""  # noqa: E501

    may = frozenset({SW})  # never the inspector whose visits her codes prove
    writes_beside = True  # her secret, in the vault: a repeat must not keep another

    person_id: PersonId
    kind: ProofKind

    def decide(self, order: ProtectionOrder, c: Context) -> NewProof:
        proof_id = order.enrol_presence_proof(
            self.person_id, self.kind, by=c.by, at=c.at, policy=c.policy
        )
        secret = new_secret()
        c.vault.keep(order.id, proof_id, secret)  # before the event is saved: never lost
        return NewProof(proof_id, secret)
