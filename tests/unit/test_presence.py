"""What a code shows, decided from the secret alone: the rules of orders.presence."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pyotp
import pytest

from orders.presence import (
    PresenceProof,
    ProofKind,
    Tolerance,
    Verdict,
    card_codes,
    check,
)
from orders.vault import open_secret, seal_secret

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
APP = PresenceProof(uuid4(), "p1", ProofKind.APP, T0 - timedelta(days=3))
CARD = PresenceProof(uuid4(), "p1", ProofKind.CARD, T0 - timedelta(days=3))
TOLERANCE = Tolerance(timedelta(minutes=15), timedelta(days=2), 40)
TOTP = pyotp.TOTP(SECRET)


def verdict_of(
    code: str,
    claimed: datetime = T0,
    *,
    proofs: tuple[PresenceProof, ...] = (APP,),
    used: frozenset[tuple[UUID, int]] = frozenset(),
) -> Verdict:
    secrets = {p.proof_id: SECRET for p in proofs}
    return check(code, claimed, proofs, secrets, used, TOLERANCE).verdict


@pytest.mark.parametrize("made", [timedelta(0), timedelta(minutes=14), -timedelta(minutes=14)])
def test_a_code_made_near_the_claimed_time_proves_the_visit(made: timedelta) -> None:
    found = check(TOTP.at(T0 + made), T0, (APP,), {APP.proof_id: SECRET}, frozenset(), TOLERANCE)
    assert found.verdict is Verdict.PROVEN
    assert found.proof_id == APP.proof_id
    assert found.offset_minutes == pytest.approx(made / timedelta(minutes=1), abs=1)


@pytest.mark.parametrize("made", [timedelta(minutes=20), timedelta(hours=26), -timedelta(days=1)])
def test_a_code_made_at_another_time_is_out_of_time_and_says_how_far(made: timedelta) -> None:
    found = check(TOTP.at(T0 + made), T0, (APP,), {APP.proof_id: SECRET}, frozenset(), TOLERANCE)
    assert found.verdict is Verdict.OUT_OF_TIME
    assert found.offset_minutes == pytest.approx(made / timedelta(minutes=1), abs=1)


def test_a_code_beyond_the_lookaround_or_not_hers_is_wrong() -> None:
    assert verdict_of(TOTP.at(T0 + timedelta(days=3))) is Verdict.WRONG
    assert verdict_of(pyotp.TOTP("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU").at(T0)) is Verdict.WRONG


def test_a_code_given_twice_is_reused() -> None:
    first = check(TOTP.at(T0), T0, (APP,), {APP.proof_id: SECRET}, frozenset(), TOLERANCE)
    assert first.counter is not None
    used = frozenset({(APP.proof_id, first.counter)})
    assert verdict_of(TOTP.at(T0), used=used) is Verdict.REUSED


def test_a_card_code_counts_once_in_any_order_and_its_time_is_not_checked() -> None:
    codes = card_codes(SECRET, 40)
    assert verdict_of(codes[5], proofs=(CARD,)) is Verdict.PROVEN
    assert verdict_of(codes[5], T0 + timedelta(days=9), proofs=(CARD,)) is Verdict.PROVEN
    used = frozenset({(CARD.proof_id, 5)})
    assert verdict_of(codes[5], proofs=(CARD,), used=used) is Verdict.REUSED
    assert verdict_of(card_codes(SECRET, 41)[40], proofs=(CARD,)) is Verdict.WRONG  # not printed


def test_a_revoked_secret_proves_visits_before_its_revocation_only() -> None:
    revoked = PresenceProof(APP.proof_id, "p1", ProofKind.APP, APP.enrolled_at, T0)
    before = T0 - timedelta(hours=1)
    assert verdict_of(TOTP.at(before), before, proofs=(revoked,)) is Verdict.PROVEN
    assert verdict_of(TOTP.at(T0), T0, proofs=(revoked,)) is Verdict.REVOKED


def test_nothing_enrolled_nothing_to_check() -> None:
    assert check("123456", T0, (), {}, frozenset(), TOLERANCE).verdict is Verdict.UNVERIFIABLE
    assert Verdict.UNVERIFIABLE.is_finding is False
    assert {v for v in Verdict if v.is_finding} == {
        Verdict.OUT_OF_TIME,
        Verdict.REUSED,
        Verdict.REVOKED,
        Verdict.WRONG,
    }


def test_the_vault_keeps_a_secret_only_encrypted_and_bound_to_its_proof() -> None:
    key = bytes(range(32))
    sealed = seal_secret(key, APP.proof_id, SECRET)
    assert SECRET not in sealed
    assert open_secret(key, APP.proof_id, sealed) == SECRET
    with pytest.raises(Exception):  # noqa: B017, PT011 (the library's InvalidTag)
        open_secret(key, CARD.proof_id, sealed)
    with pytest.raises(Exception):  # noqa: B017, PT011
        open_secret(bytes(32), APP.proof_id, sealed)


def test_the_fast_code_is_the_rfc_6238_code_pyotp_gives() -> None:
    from orders.presence import _totp  # the lookaround's inner loop

    key = base64.b32decode(SECRET)
    assert all(_totp(key, c) == TOTP.at(c * 30) for c in range(59_000_000, 59_000_500))


def test_of_two_steps_whose_codes_are_alike_the_nearer_the_claim_is_taken() -> None:
    """Six digits repeat: under this secret the code made at 09:00 is also the one made 93
    steps (46.5 minutes) before. Her code at the claimed time proves the visit at that time,
    and is not taken as a reuse of the earlier step's, given for another visit."""
    secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAABFR6"
    claimed = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    step = int(claimed.timestamp()) // 30
    totp = pyotp.TOTP(secret)
    assert totp.at(claimed) == totp.at(claimed - timedelta(seconds=93 * 30))  # alike
    proof = PresenceProof(uuid4(), "p1", ProofKind.APP, claimed - timedelta(days=3))
    near = Tolerance(timedelta(hours=1), timedelta(days=2), 40)
    used = frozenset({(proof.proof_id, step - 93)})
    found = check(totp.at(claimed), claimed, (proof,), {proof.proof_id: secret}, used, near)
    assert (found.verdict, found.counter, found.offset_minutes) == (Verdict.PROVEN, step, 0)
