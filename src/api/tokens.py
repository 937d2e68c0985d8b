"""Signed bearer tokens (JWT, HS256 via PyJWT): who the caller is, in which role and where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from orders.values import Actor, Role

ALGORITHM = "HS256"
ISSUER = "protection-orders"
ALL_DISTRICTS = "*"


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


class Tokens:
    """Mints and verifies tokens with one secret key."""

    def __init__(self, key: str) -> None:
        self._key = key

    def mint(self, user: User, *, now: datetime, lifetime: timedelta) -> str:
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
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["sub", "role", "districts", "exp", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("the token has expired: ask for a new one") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationFailed("the token's signature is not valid") from None
        except jwt.PyJWTError as e:
            raise AuthenticationFailed(f"the token is not valid: {e}") from None
        try:
            role = Role(claims["role"])
            districts = frozenset(str(d) for d in claims["districts"])
        except (ValueError, TypeError):
            raise AuthenticationFailed("the token names an unknown role or bad districts") from None
        if role is Role.SYSTEM:
            raise AuthenticationFailed("the system role cannot be given to a caller")
        return User(id=str(claims["sub"]), role=role, districts=districts)
