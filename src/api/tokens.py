"""Signed bearer tokens (JWT, HS256 via PyJWT): who the caller is, in which role and where."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt

from orders.values import Actor, Role

ALGORITHM = "HS256"
ISSUER = "protection-orders"
ALL_DISTRICTS = "*"
SECOND = timedelta(seconds=1)


class AuthenticationFailed(Exception):
    """A token is missing, malformed, wrongly signed or expired; the message says which."""


@dataclass(frozen=True)
class User:
    """The verified caller: an account id, one role, and the districts it is scoped to."""

    id: str
    role: Role
    districts: frozenset[str]

    @property
    def actor(self) -> Actor:
        return Actor(id=self.id, role=self.role)

    def covers(self, district: str) -> bool:
        return ALL_DISTRICTS in self.districts or district in self.districts


MAX_LIFETIME = timedelta(hours=12)
MAX_ID_CHARACTERS = 200  # as a staff member's id
VERIFIED_KEPT = 4096  # tokens whose verification is remembered (a caller sends one many times)


class Tokens:
    """Mints and verifies tokens with one secret key; none lives longer than `max_lifetime`.

    A token verified once is remembered (the last VERIFIED_KEPT of them) with its expiry: sent
    again, it is refused once expired and otherwise names the same caller without checking its
    signature and claims again, which would all come out the same (decision 027). A refusal is
    never remembered."""

    def __init__(self, key: str, *, max_lifetime: timedelta = MAX_LIFETIME) -> None:
        self._key = key
        self.max_lifetime = max_lifetime
        self._verified = lru_cache(maxsize=VERIFIED_KEPT)(self._verify)

    def mint(self, user: User, *, now: datetime, lifetime: timedelta) -> str:
        if lifetime > self.max_lifetime:
            raise ValueError(f"a token may be valid for at most {self.max_lifetime}")
        claims = {
            "sub": user.id,
            "role": user.role.value,
            "districts": sorted(user.districts),
            "iss": ISSUER,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> User:
        """The caller the token names; AuthenticationFailed says why not, never repeating a
        claim's value."""
        user, expires = self._verified(token)
        if expires <= time.time():  # as PyJWT's own check: expired at its `exp` second
            raise AuthenticationFailed(_why(jwt.ExpiredSignatureError()))
        return user

    def _verify(self, token: str) -> tuple[User, int]:
        """The caller the token names and the second it expires, from its signature and its
        claims, now; AuthenticationFailed (never remembered) says why not."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["sub", "role", "districts", "iat", "exp", "iss"]},
            )
        except jwt.PyJWTError as e:
            raise AuthenticationFailed(_why(e)) from None
        return _user(claims, self.max_lifetime), int(claims["exp"])


def _why(error: jwt.PyJWTError) -> str:
    if isinstance(error, jwt.ExpiredSignatureError):
        return "the token has expired: ask for a new one"
    if isinstance(error, jwt.InvalidSignatureError):
        return "the token's signature is not valid"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"the token lacks the {error.claim} claim"
    if isinstance(error, jwt.InvalidIssuerError):
        return f"the token was not issued by {ISSUER}"
    if isinstance(error, jwt.ImmatureSignatureError):
        return "the token is not yet valid"
    if isinstance(error, jwt.exceptions.InvalidSubjectError):
        return "the token's sub claim must be an account id"
    return "the token is not valid: it is not a well-formed, HS256-signed JWT"


def _user(claims: dict[str, Any], max_lifetime: timedelta) -> User:
    """The claims as a caller, once each has the shape it must have."""
    sub, districts = claims["sub"], claims["districts"]
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_ID_CHARACTERS:
        raise AuthenticationFailed(
            f"the token's sub claim must be an account id of 1 to {MAX_ID_CHARACTERS} characters"
        )
    if not isinstance(districts, list) or not all(isinstance(d, str) and d for d in districts):
        raise AuthenticationFailed("the token's districts claim must be a list of district names")
    if not isinstance(claims["iat"], int) or claims["exp"] - claims["iat"] > max_lifetime / SECOND:
        raise AuthenticationFailed(
            f"the token is valid for longer than the {max_lifetime} this service accepts: "
            "ask for a shorter-lived one"
        )
    try:
        role = Role(claims["role"])
    except (ValueError, TypeError):
        raise AuthenticationFailed("the token names an unknown role") from None
    if role is Role.SYSTEM:
        raise AuthenticationFailed("the system role cannot be given to a caller")
    return User(id=sub, role=role, districts=frozenset(districts))
