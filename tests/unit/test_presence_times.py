"""orders.presence judged by when a code was made: revocation, enrolment, and the cost of
a wrong code."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pyotp
import pytest

from orders.presence import PresenceProof, ProofKind, Tolerance, Verdict, check

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
TOLERANCE = Tolerance(timedelta(minutes=15), timedelta(days=2), 40)
TOTP = pyotp.TOTP(SECRET)


def test_a_code_her_old_phone_made_after_it_was_revoked_is_not_proven() -> None:
    """Revocation is judged by the claimed visit time, not by when the code was made: whoever
    holds the phone she lost makes a code after the revocation and claims a visit a few
    minutes before it (within `near`)."""
    phone = PresenceProof(uuid4(), "p1", ProofKind.APP, T0 - timedelta(days=30), revoked_at=T0)
    code = TOTP.at(T0 + timedelta(minutes=10))  # made after the revocation
    found = check(
        code, T0 - timedelta(minutes=4), (phone,), {phone.proof_id: SECRET}, frozenset(), TOLERANCE
    )
    assert found.verdict is not Verdict.PROVEN, found


def test_a_code_made_before_the_secret_existed_is_not_proven() -> None:
    """The same for enrolment: a code made within `near` after enrolment proves a visit
    claimed before the secret existed."""
    app = PresenceProof(uuid4(), "p1", ProofKind.APP, T0)
    found = check(
        TOTP.at(T0 + timedelta(minutes=5)),
        T0 - timedelta(minutes=8),
        (app,),
        {app.proof_id: SECRET},
        frozenset(),
        TOLERANCE,
    )
    assert found.verdict is not Verdict.PROVEN, found


def test_a_wrong_code_costs_no_more_than_a_few_hundred_codes_per_proof(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lookaround computes a TOTP for every 30 s step within two days on both sides:
    11,521 HMACs per enrolled proof (revoked ones too, kept for good) for each wrong code,
    ~0.15 s of CPU each on this machine, in the request, under the GIL; a rotation a month
    makes it a second per report. The search cannot need codes made after the report was
    recorded, nor outside each proof's enrolment."""
    made = 0
    at = pyotp.TOTP.at

    def counted(self: pyotp.TOTP, *args: object, **kwargs: object) -> str:
        nonlocal made
        made += 1
        return at(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pyotp.TOTP, "at", counted)
    proofs = tuple(
        replace(
            PresenceProof(uuid4(), "p1", ProofKind.APP, T0 - timedelta(days=60 - 10 * i)),
            revoked_at=None if i == 5 else T0 - timedelta(days=50 - 10 * i),
        )
        for i in range(6)
    )  # rotated every ten days, the last in force
    found = check(
        "000001", T0, proofs, {p.proof_id: SECRET for p in proofs}, frozenset(), TOLERANCE
    )
    assert found.verdict in (Verdict.WRONG, Verdict.OUT_OF_TIME)
    assert made <= 6_000, f"{made} codes computed for one wrong code"
