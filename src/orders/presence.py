"""Proof of presence: a code the protected person gives at the visit, checked by the service.

At enrolment she gets a secret: on her phone, an RFC 6238 time-based code (an authenticator
app, from a QR code); without a smartphone, a printed card of RFC 4226 single-use codes. The
secret is kept encrypted in the store's vault, never in an event, and shown once. A visit
report carries the code she gave; the order checks it against the visit time the report
claims and keeps only the verdict, never the code. Pure: the secrets are handed in.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

import pyotp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

STEP = timedelta(seconds=30)  # RFC 6238's time step, as every authenticator app uses
ISSUER = "Check-in"  # what her phone shows: nothing that tells an abuser what it is for


class ProofKind(StrEnum):
    """How she proves a visit: codes from an app on her phone, or a printed card."""

    APP = "app"
    CARD = "card"


class Verdict(StrEnum):
    """What a code given in a visit report shows."""

    PROVEN = "proven"  # hers, at the claimed time (app) or unused (card)
    OUT_OF_TIME = "out_of_time"  # hers, but made at another time than the visit claimed
    REUSED = "reused"  # hers, but already given for another visit
    REVOKED = "revoked"  # from a secret rotated out before the visit it claims
    WRONG = "wrong"  # not hers
    UNVERIFIABLE = "unverifiable"  # no secret enrolled on the order to check it against

    @property
    def is_finding(self) -> bool:
        """Whether the code itself is a finding about the report."""
        return self in (Verdict.OUT_OF_TIME, Verdict.REUSED, Verdict.REVOKED, Verdict.WRONG)


@dataclass(frozen=True)
class PresenceProof:
    """A protected person's enrolled way to prove visits; its secret lives in the vault."""

    proof_id: UUID
    person_id: str
    kind: ProofKind
    enrolled_at: datetime
    revoked_at: datetime | None = None  # when a new one replaced it (her phone was taken)


@dataclass(frozen=True)
class Proof:
    """A visit report's proof, as checked: the verdict, which proof and code matched, and
    how far from the claimed time an app's code was made (never the code itself)."""

    verdict: Verdict
    proof_id: UUID | None = None
    counter: int | None = None  # the code's time step (app) or place on the card
    offset_minutes: int | None = None  # code made this long after (negative: before) the claim


@dataclass(frozen=True)
class Tolerance:
    """How near the claimed time an app's code must be made, and how far to look for one
    made at another time (so an out-of-time code is told from a wrong one)."""

    near: timedelta
    lookaround: timedelta
    card_codes: int


def new_secret() -> str:
    """A fresh secret (base32, 160 bits)."""
    return pyotp.random_base32(32)


def card_codes(secret: str, count: int) -> list[str]:
    """The codes printed on a card, in order; each may be given once."""
    hotp = pyotp.HOTP(secret)
    return [hotp.at(i) for i in range(count)]


def provisioning_uri(secret: str, proof_id: UUID) -> str:
    """The otpauth:// URI an authenticator app reads from a QR code; it names neither her,
    nor the order, nor what it is for."""
    return pyotp.TOTP(secret).provisioning_uri(name=proof_id.hex[:8], issuer_name=ISSUER)


def check(
    code: str,
    claimed_at: datetime,
    proofs: tuple[PresenceProof, ...],
    secrets: Mapping[UUID, str],
    used: frozenset[tuple[UUID, int]],
    tolerance: Tolerance,
) -> Proof:
    """The verdict on a code given for a visit claimed at `claimed_at`."""
    code = code.strip().replace(" ", "")
    known = [(p, secrets[p.proof_id]) for p in proofs if p.proof_id in secrets]
    if not known:
        return Proof(Verdict.UNVERIFIABLE)
    found = None
    for proof, secret in known:
        matched = _match(code, claimed_at, proof, secret, tolerance)
        if matched is not None and (found is None or _better(matched, found)):
            found = matched
    if found is None:
        return Proof(Verdict.WRONG)
    if found.verdict is Verdict.PROVEN and (found.proof_id, found.counter) in used:
        return Proof(Verdict.REUSED, found.proof_id, found.counter)
    return found


def _match(
    code: str, claimed_at: datetime, proof: PresenceProof, secret: str, tolerance: Tolerance
) -> Proof | None:
    revoked = proof.revoked_at is not None and claimed_at >= proof.revoked_at
    verdict = Verdict.REVOKED if revoked else Verdict.PROVEN
    if proof.kind is ProofKind.CARD:
        for i, printed in enumerate(card_codes(secret, tolerance.card_codes)):
            if printed == code:
                return Proof(verdict, proof.proof_id, i)
        return None
    totp, claimed = pyotp.TOTP(secret), _step(claimed_at)
    near, far = _steps(tolerance.near), _steps(tolerance.lookaround)
    for distance in range(far + 1):
        for counter in {claimed - distance, claimed + distance}:
            if totp.at(counter * STEP.total_seconds()) != code:
                continue
            minutes = round((counter - claimed) * STEP / timedelta(minutes=1))
            if distance > near:
                return Proof(Verdict.OUT_OF_TIME, proof.proof_id, counter, minutes)
            return Proof(verdict, proof.proof_id, counter, minutes)
    return None


_RANK = {Verdict.PROVEN: 0, Verdict.REVOKED: 1, Verdict.OUT_OF_TIME: 2}


def _better(a: Proof, b: Proof) -> bool:
    return _RANK.get(a.verdict, 9) < _RANK.get(b.verdict, 9)


def _step(moment: datetime) -> int:
    return int(moment.timestamp() // STEP.total_seconds())


def _steps(span: timedelta) -> int:
    return int(span / STEP)


class Vault(Protocol):
    """Where the secrets are kept, encrypted, outside the events."""

    def secrets(self, order_id: UUID) -> dict[UUID, str]:
        """Every secret enrolled on the order, by proof id."""

    def keep(self, order_id: UUID, proof_id: UUID, secret: str) -> None:
        """Keep a new secret (for good: a rotated one still checks older visits' codes)."""


# --- the vault's encryption ----------------------------------------------------------------


def seal_secret(key: bytes, proof_id: UUID, secret: str) -> str:
    """A secret encrypted for the vault (AES-GCM, bound to its proof's id)."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), proof_id.bytes)
    return base64.b64encode(nonce + sealed).decode()


def open_secret(key: bytes, proof_id: UUID, sealed: str) -> str:
    """A vault's secret decrypted; raises if it was altered or moved to another proof."""
    raw = base64.b64decode(sealed)
    return AESGCM(key).decrypt(raw[:12], raw[12:], proof_id.bytes).decode()
