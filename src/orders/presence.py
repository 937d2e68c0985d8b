"""Proof of presence: a code the protected person gives at the visit, checked by the service.

At enrolment she gets a secret: on her phone, an RFC 6238 time-based code (an authenticator
app, from a QR code); without a smartphone, a printed card of RFC 4226 single-use codes. The
secret is kept encrypted in the store's vault, never in an event, and shown once. A visit
report carries the code she gave; the order checks it against the visit time the report
claims and keeps only the verdict, never the code. Pure: the secrets are handed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from bisect import bisect_left
from collections.abc import Collection, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

import pyotp

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
    codes: int = 0  # a card: how many codes were printed on it


@dataclass(frozen=True)
class Proof:
    """A visit report's proof, as checked: the verdict, which proof and code matched, and
    how far from the claimed time an app's code was made (never the code itself)."""

    verdict: Verdict
    proof_id: UUID | None = None
    counter: int | None = None  # the code's time step (app) or place on the card
    offset_minutes: int | None = None  # code made this long after (negative: before) the claim


@dataclass(frozen=True)
class CodesGiven:
    """The codes of one proof that proved visits, by counter (a time step, a place on a card),
    in ascending order: a thousand visits' codes are searched by halves, not one by one."""

    proof_id: UUID
    counters: tuple[int, ...] = ()

    def __contains__(self, counter: object) -> bool:
        at = bisect_left(self.counters, counter) if isinstance(counter, int) else 0
        return at < len(self.counters) and self.counters[at] == counter

    def with_counter(self, counter: int) -> CodesGiven:
        at = bisect_left(self.counters, counter)
        if at < len(self.counters) and self.counters[at] == counter:
            return self
        return CodesGiven(self.proof_id, (*self.counters[:at], counter, *self.counters[at:]))


@dataclass(frozen=True)
class UsedCodes:
    """Every code that proved a visit, by proof: a code proves one visit, never a second."""

    given: tuple[CodesGiven, ...] = ()

    def __contains__(self, code: object) -> bool:
        """Whether `code`, a (proof id, counter) pair, already proved a visit."""
        proof_id, counter = code if isinstance(code, tuple) else (None, None)
        return any(g.proof_id == proof_id and counter in g for g in self.given)

    def with_code(self, proof_id: UUID, counter: int) -> UsedCodes:
        for at, given in enumerate(self.given):
            if given.proof_id == proof_id:
                grown = given.with_counter(counter)
                if grown is given:
                    return self
                return UsedCodes((*self.given[:at], grown, *self.given[at + 1 :]))
        return UsedCodes((*self.given, CodesGiven(proof_id, (counter,))))


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
    used: Container[tuple[UUID, int]],
    tolerance: Tolerance,
    *,
    recorded_at: datetime | None = None,
) -> Proof:
    """The verdict on a code given for a visit claimed at `claimed_at`, in a report recorded
    at `recorded_at`. An app's code is judged by when it was made: within `near` of the claim
    it proves the visit, unless made before her secret existed (nobody could have) or after
    it was revoked (whoever has her old phone); made at another time it is out of time. A
    card's code is judged by when the report was recorded: after the card was replaced, it is
    revoked. Every proof's near window is searched before any lookaround."""
    code = code.strip().replace(" ", "")
    known = [(p, secrets[p.proof_id]) for p in proofs if p.proof_id in secrets]
    if not known:
        return Proof(Verdict.UNVERIFIABLE)
    recorded = recorded_at if recorded_at is not None else claimed_at + tolerance.lookaround
    found: list[Proof] = []
    for search in (_near, _around):
        if any(m.verdict is Verdict.PROVEN for m in found):
            break  # nothing a lookaround finds outranks a code proven near the claim
        found += [
            m
            for p, secret in known
            if (m := search(code, claimed_at, recorded, p, secret, tolerance)) is not None
        ]
    if not found:
        return Proof(Verdict.WRONG)
    best = min(found, key=lambda m: _RANK.get(m.verdict, 9))
    if best.verdict is Verdict.PROVEN and (best.proof_id, best.counter) in used:
        return Proof(Verdict.REUSED, best.proof_id, best.counter, best.offset_minutes)
    return best


def _near(
    code: str,
    claimed_at: datetime,
    recorded_at: datetime,
    proof: PresenceProof,
    secret: str,
    tolerance: Tolerance,
) -> Proof | None:
    if proof.kind is ProofKind.CARD:
        count = proof.codes or tolerance.card_codes
        for i, printed in enumerate(card_codes(secret, count)):
            if hmac.compare_digest(printed, code):
                replaced_before = proof.revoked_at is not None and recorded_at >= proof.revoked_at
                return Proof(
                    Verdict.REVOKED if replaced_before else Verdict.PROVEN, proof.proof_id, i
                )
        return None
    claimed, near = _step(claimed_at), _steps(tolerance.near)
    counters = _nearest_first(claimed, claimed - near, claimed + near)
    return _search(code, claimed, counters, proof, secret, False)


def _around(
    code: str,
    claimed_at: datetime,
    recorded_at: datetime,
    proof: PresenceProof,
    secret: str,
    tolerance: Tolerance,
) -> Proof | None:
    if proof.kind is ProofKind.CARD:
        return None
    claimed, near = _step(claimed_at), _steps(tolerance.near)
    first = max(_step(claimed_at - tolerance.lookaround), _step(proof.enrolled_at) - 1)
    last = min(_step(claimed_at + tolerance.lookaround), _step(recorded_at) + near)
    counters = _nearest_first(claimed, first, last, beyond=near)
    return _search(code, claimed, counters, proof, secret, True)


def _nearest_first(claimed: int, first: int, last: int, *, beyond: int = -1) -> Iterator[int]:
    """The time steps from `first` to `last`, the nearest the claimed one first (the earlier
    of two as near), leaving out those within `beyond` of it. An honest code is found at
    once, and of two steps whose codes happen to be alike (six digits), the nearer is taken."""
    for distance in range(beyond + 1, max(claimed - first, last - claimed) + 1):
        for counter in (claimed - distance, claimed + distance) if distance else (claimed,):
            if first <= counter <= last:
                yield counter


def _search(
    code: str,
    claimed: int,
    counters: Iterable[int],
    proof: PresenceProof,
    secret: str,
    elsewhere: bool,
) -> Proof | None:
    keyed = _keyed(base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True))
    enrolled = _step(proof.enrolled_at) - 1  # a phone's clock may run a step ahead
    revoked = None if proof.revoked_at is None else _step(proof.revoked_at)
    for counter in counters:
        if not hmac.compare_digest(_totp(keyed, counter), code):
            continue
        minutes = round((counter - claimed) * STEP / timedelta(minutes=1))
        if counter < enrolled:
            return Proof(Verdict.WRONG, proof.proof_id, counter, minutes)  # before it existed
        if claimed < enrolled:  # a visit claimed before she had codes cannot carry one
            return Proof(Verdict.OUT_OF_TIME, proof.proof_id, counter, minutes)
        if revoked is not None and counter >= revoked:
            return Proof(Verdict.REVOKED, proof.proof_id, counter, minutes)
        verdict = Verdict.OUT_OF_TIME if elsewhere else Verdict.PROVEN
        return Proof(verdict, proof.proof_id, counter, minutes)
    return None


def _totp(key: bytes | hmac.HMAC, counter: int) -> str:
    """RFC 6238's six digits for a time step (RFC 4226's truncation); what pyotp computes,
    without its per-call overhead, since a lookaround tries thousands. `key` may be an HMAC
    made from the key once (`_keyed`), copied for each step instead of keyed again."""
    mac = _keyed(key) if isinstance(key, bytes) else key.copy()
    mac.update(counter.to_bytes(8, "big"))
    digest = mac.digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha1)


_RANK = {Verdict.PROVEN: 0, Verdict.REVOKED: 1, Verdict.WRONG: 2, Verdict.OUT_OF_TIME: 3}


def _step(moment: datetime) -> int:
    return int(moment.timestamp() // STEP.total_seconds())


def _steps(span: timedelta) -> int:
    return int(span / STEP)


class Vault(Protocol):
    """Where the secrets are kept, encrypted, outside the events."""

    def secrets(self, order_id: UUID, proofs: Collection[UUID] | None = None) -> dict[UUID, str]:
        """Every secret enrolled on the order, by proof id; with `proofs`, at least theirs."""

    def keep(self, order_id: UUID, proof_id: UUID, secret: str) -> None:
        """Keep a new secret (for good: a rotated one still checks older visits' codes)."""
