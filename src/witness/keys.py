"""The witness's own Ed25519 key, kept in a file only its owner may read, and public keys read
as `protection-orders public-key` prints them.

The readers mirror service.verification's (raw, base64 or hex; SHA-256 fingerprints): the witness
runs at another institution and imports nothing of the service but its pure cryptography.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

KEY_FILE = "witness.key"


def fingerprint(public_key: bytes) -> str:
    """The SHA-256 of a raw Ed25519 public key, in hex: what two institutions compare."""
    return hashlib.sha256(public_key).hexdigest()


def read_public_key(data: bytes) -> bytes:
    """A public key from a file's bytes: raw (32 bytes), or base64 or hex on its first line."""
    if len(data) == 32:
        return data
    lines = data.decode("ascii", errors="replace").strip().splitlines()
    first = lines[0].strip() if lines else ""
    for decode in (lambda t: base64.b64decode(t, validate=True), bytes.fromhex):
        try:
            key = decode(first)
        except (ValueError, binascii.Error):
            continue
        if len(key) == 32:
            return key
    raise ValueError("not an Ed25519 public key (32 bytes, raw, base64 or hex)")


def create_private_key(store: Path) -> bytes:
    """A new private key in `store`/witness.key (mode 0600); refused if one is there."""
    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    descriptor = os.open(store / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(base64.b64encode(raw).decode() + "\n")
    return raw


def load_private_key(store: Path) -> bytes:
    """The private key in `store`; FileNotFoundError if the store was never initialised."""
    raw = base64.b64decode((store / KEY_FILE).read_text(encoding="ascii").strip())
    if len(raw) != 32:
        raise ValueError(f"{store / KEY_FILE} does not hold a 32-byte Ed25519 private key")
    return raw


def public_key_of(private_key: bytes) -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
