"""Sensitive fields committed to, not hashed in the clear (decision 016).

What an event's digest covers is its *committed form*: the recorded state as canonical JSON,
with each sensitive value (SENSITIVE_FIELDS) replaced by `{"_withheld_": H(salt || value)}`.
A case bundle can then carry every event's committed form, which hashes to the signed log,
without carrying a shelter address; and an entitled export discloses each value with its
salt, which the verifier checks against the commitment. Salts come from the service's seal
key, so nobody can guess an address from its commitment by trying addresses.

Pure: no database, no clock, so a verifier runs it offline.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from orders.disclosure import SENSITIVE_FIELDS

WITHHELD_KEY = "_withheld_"
Salt = Callable[[str], bytes]  # a field's salt, given its place (an RFC 6901 JSON pointer)


def _sensitive_keys() -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """SENSITIVE_FIELDS as JSON keys: bare names anywhere, and (container, name) pairs where
    the container is named as in the order (`visits`) or as in its events (`visit`)."""
    bare: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for name in SENSITIVE_FIELDS:
        if "." not in name:
            bare.add(name)
            continue
        container, key = name.rsplit(".", 1)
        for form in {container, container.removesuffix("es"), container.removesuffix("s")}:
            pairs.add((form, key))
    return frozenset(bare), frozenset(pairs)


_BARE, _PAIRS = _sensitive_keys()


def sensitive_places(value: Any) -> Iterator[tuple[str, Any]]:
    """Each sensitive value in a decoded state (None is not sensitive), with its place."""
    for place, holder, key in _holders(value, "", frozenset(), []):
        yield place, holder[key]


_KEYS = _BARE | {key for _, key in _PAIRS}  # the names a sensitive value can have

Holder = tuple[str, Any, Any]  # a sensitive value's place, and the dict or list it is in, by key


def _holders(value: Any, at: str, within: frozenset[str], found: list[Holder]) -> list[Holder]:
    """`found`, and each sensitive value's place and holder in `value` (which is at `at`,
    inside the containers named `within`), in document order."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, dict | list):
                _holders(v, f"{at}/{i}", within, found)
    elif isinstance(value, dict):
        for key, v in value.items():
            if v is None:
                continue  # nothing to hide, nothing inside
            if key in _KEYS and (key in _BARE or any((c, key) in _PAIRS for c in within)):
                found.append((f"{at}/{_escape(key)}", value, key))
            elif isinstance(v, dict | list):
                inner = within if key.startswith("_") else within | {key}
                _holders(v, f"{at}/{_escape(key)}", inner, found)
    return found


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def canonical(value: Any) -> bytes:
    """The one encoding of a JSON value that is hashed: sorted keys, no spaces, ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def commitment(salt: bytes, value: Any) -> str:
    """What stands in the committed form for a sensitive value."""
    return base64.b64encode(hashlib.sha256(salt + canonical(value)).digest()).decode()


def salts(seal_key: bytes, order_id: UUID, version: int) -> Salt:
    """The salts of one event's sensitive fields: keyed, so only the service can make them."""
    prefix = b"protection-orders commitment\n" + order_id.bytes + version.to_bytes(8, "big")

    def salt(place: str) -> bytes:
        return hmac.new(seal_key, prefix + place.encode(), hashlib.sha256).digest()[:16]

    return salt


def committed(plain: bytes, salt: Salt) -> bytes:
    """The committed form of a recorded state; a state that is not JSON stays as it is (its
    digest then holds it byte for byte)."""
    try:
        content = json.loads(plain.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError too
        return plain
    if _may_name_one(plain):
        for place, holder, key in _holders(content, "", frozenset(), []):
            holder[key] = {WITHHELD_KEY: commitment(salt(place), holder[key])}  # ours to change
    return canonical(content)


_QUOTED_KEYS = tuple(f'"{key}"'.encode() for key in sorted(_KEYS))


def _may_name_one(plain: bytes) -> bool:
    """Whether a state may have a sensitive key: one of their names, quoted, is in it, or a
    name is written with an escape (only `\\u` can spell a letter). Most events have none,
    and looking costs less than walking the state."""
    return b"\\u" in plain or any(key in plain for key in _QUOTED_KEYS)


def committed_state(seal_key: bytes, order_id: UUID, version: int, plain: bytes) -> bytes:
    """The committed form of one stored event: what its digest covers."""
    return committed(plain, salts(seal_key, order_id, version))


def disclosed(plain: bytes, salt: Salt) -> dict[str, dict[str, Any]]:
    """Each sensitive value of a state with its salt, as an entitled export discloses it."""
    try:
        content = json.loads(plain.decode("utf-8"))
    except ValueError:
        return {}
    return {
        place: {"value": value, "salt": base64.b64encode(salt(place)).decode()}
        for place, value in sensitive_places(content)
    }


def withheld(value: Any) -> Iterator[tuple[str, str]]:
    """Each commitment in a committed form, with its place."""
    yield from _withheld(value, "")


def _withheld(value: Any, at: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict) and set(value) == {WITHHELD_KEY}:
        yield at, str(value[WITHHELD_KEY])
    elif isinstance(value, dict):
        for key, v in value.items():
            yield from _withheld(v, f"{at}/{_escape(key)}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _withheld(v, f"{at}/{i}")


def replaced(value: Any, place: str, new: Any) -> Any:
    """A copy of `value` with what is at `place` (a JSON pointer) replaced by `new`."""
    return _replaced(value, place, new)


def _replaced(value: Any, place: str, new: Any) -> Any:
    if not place:
        return new
    head, _, rest = place[1:].partition("/")
    rest = f"/{rest}" if rest else ""
    if isinstance(value, list):
        i = int(head)
        return [*value[:i], _replaced(value[i], rest, new), *value[i + 1 :]]
    key = head.replace("~1", "/").replace("~0", "~")
    return {**value, key: _replaced(value[key], rest, new)}
