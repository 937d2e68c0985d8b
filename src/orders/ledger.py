"""Tamper evidence: digests chained per stream, a Merkle tree over the log, signatures.

- An event's digest is SHA-256 over the previous digest of its order's stream and a canonical
  encoding of the event as recorded (order id, version, topic, plaintext state). Changing,
  removing or reordering an event breaks the chain from there on.
- Checkpoints sign (Ed25519) the root of a Merkle tree over every digest in log order, in the
  manner of RFC 9162 (certificate transparency): leaves are hashed with a 0x00 prefix, nodes
  with 0x01, and an inclusion proof shows that one event is in the signed log.
- They also sign the root of a second tree, of each order's head (its latest event and that
  event's digest), orders in the order they first appear in the log: its inclusion proof
  shows how many events an order had at the checkpoint, so a case bundle missing its last
  events fails.
Everything here is pure: no database, no clock, so a verifier can run it offline.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

GENESIS = bytes(32)


def event_digest(previous: bytes, order_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The chained digest of one recorded event."""
    return chained(previous, record_hash(order_id, version, topic, state))


def record_hash(order_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The hash of one recorded event alone: all a chain needs of an event it cannot show."""
    record = b"\n".join([order_id.hex.encode(), str(version).encode(), topic.encode(), state])
    return hashlib.sha256(record).digest()


def chained(previous: bytes, record: bytes) -> bytes:
    """The digest after `previous` of an event whose record hashes to `record`."""
    return hashlib.sha256(previous + record).digest()


def seal(key: bytes, digest: bytes) -> bytes:
    """A keyed mark that only the service can make: an event written around it has none."""
    return hmac.new(key, digest, hashlib.sha256).digest()


def leaf_hash(digest: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + digest).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 9162, 2.1.1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: list[bytes]) -> bytes:
    """The Merkle tree hash of already-hashed leaves."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


Frontier = tuple[tuple[int, bytes], ...]
"""The perfect subtrees a tree's leaves make so far, left to right, as (width, hash): their
widths are the binary digits of the count. All it takes to extend the tree and know its root
without its leaves."""


def extended(frontier: Frontier, leaves: list[bytes]) -> Frontier:
    """The frontier after appending `leaves`."""
    stack = list(frontier)
    for leaf in leaves:
        _push(stack, leaf)
    return tuple(stack)


def _push(stack: list[tuple[int, bytes]], leaf: bytes) -> None:
    stack.append((1, leaf))
    while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
        (width, right), (_, left) = stack.pop(), stack.pop()
        stack.append((width * 2, _node(left, right)))


def frontier_root(frontier: Frontier) -> bytes:
    """The tree hash of the leaves a frontier stands for: its subtrees folded from the right."""
    if not frontier:
        return hashlib.sha256(b"").digest()
    root = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        root = _node(left, root)
    return root


def frontier_size(frontier: Frontier) -> int:
    return sum(width for width, _ in frontier)


def frontier_holds(frontier: Frontier, size: int) -> bool:
    """Whether a frontier has the shape of a tree of `size` leaves: one subtree per binary
    digit of `size`, the widest first, each a power of two."""
    widths = [width for width, _ in frontier]
    digits = [1 << bit for bit in reversed(range(size.bit_length())) if size >> bit & 1]
    return widths == digits


def prefix_roots(leaves: list[bytes], sizes: set[int]) -> dict[int, bytes]:
    """The Merkle tree hash of the first `size` leaves for each of `sizes`, in one pass over a
    frontier. O(n + |sizes| log n)."""
    roots: dict[int, bytes] = {0: frontier_root(())} if 0 in sizes else {}
    stack: list[tuple[int, bytes]] = []
    for count, leaf in enumerate(leaves, start=1):
        _push(stack, leaf)
        if count in sizes:
            roots[count] = frontier_root(tuple(stack))
    return roots


def inclusion_proof(index: int, leaves: list[bytes]) -> list[bytes]:
    """The audit path for leaf `index` in a tree of `leaves` (RFC 9162, 2.1.3.1)."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), merkle_root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), merkle_root(leaves[:k])]


class MerkleTree:
    """A tree over fixed leaves that computes each subtree's hash once: inclusion proofs for
    many leaves cost O(n) in all, not O(n) each."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self._roots: dict[tuple[int, int], bytes] = {}

    def root(self, lo: int = 0, hi: int | None = None) -> bytes:
        """The tree hash of leaves[lo:hi]; the ranges a proof asks for are each hashed once."""
        hi = len(self.leaves) if hi is None else hi
        if hi - lo <= 1:
            return self.leaves[lo] if hi > lo else hashlib.sha256(b"").digest()
        found = self._roots.get((lo, hi))
        if found is None:
            k = lo + _split(hi - lo)
            found = self._roots[lo, hi] = _node(self.root(lo, k), self.root(k, hi))
        return found

    def proof(self, index: int) -> list[bytes]:
        """The audit path for leaf `index` (RFC 9162, 2.1.3.1), as `inclusion_proof` gives it."""
        path: list[bytes] = []
        lo, hi = 0, len(self.leaves)
        while hi - lo > 1:
            k = lo + _split(hi - lo)
            if index < k:
                path.append(self.root(k, hi))
                hi = k
            else:
                path.append(self.root(lo, k))
                lo = k
        return path[::-1]


def root_from_proof(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes | None:
    """The root that `proof` leads to from `leaf` at `index`, or None if it cannot (2.1.3.2)."""
    if not 0 <= index < size:  # positions are unsigned: -1 would pass for the last leaf
        return None
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            result = _node(sibling, result)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = _node(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return result if sn == 0 else None


def consistency_proof(old_size: int, leaves: list[bytes]) -> list[bytes]:
    """The proof that the tree of the first `old_size` leaves is a prefix of the tree of all
    `leaves` (RFC 9162, 2.1.4.1)."""
    if not 0 < old_size <= len(leaves):
        raise ValueError(f"no consistency proof from {old_size} to {len(leaves)} leaves")
    return _subproof(old_size, leaves, whole=True)


def _subproof(m: int, leaves: list[bytes], *, whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [merkle_root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole=whole), merkle_root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], whole=False), merkle_root(leaves[:k])]


def consistency_holds(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """Whether `proof` shows the tree of `old_size` leaves with `old_root` to be a prefix of
    the tree of `new_size` leaves with `new_root` (RFC 9162, 2.1.4.2)."""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the log's first `size` events have this Merkle root, and (where
    `orders_root` is given) each order's latest event among them is the one its head names."""

    size: int
    root: bytes
    signed_at: str
    signature: bytes
    orders_root: bytes | None = None

    def statement(self) -> bytes:
        return _statement(self.size, self.root, self.signed_at, self.orders_root)

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "size": self.size,
            "root": b64(self.root),
            "signed_at": self.signed_at,
            "signature": b64(self.signature),
        }
        if self.orders_root is not None:
            data["orders_root"] = b64(self.orders_root)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Checkpoint:
        orders_root = data.get("orders_root")
        return cls(
            int(str(data["size"])),
            unb64(str(data["root"])),
            str(data["signed_at"]),
            unb64(str(data["signature"])),
            None if orders_root is None else unb64(str(orders_root)),
        )


def _statement(size: int, root: bytes, signed_at: str, orders_root: bytes | None) -> bytes:
    fields: dict[str, object] = {"size": size, "root": b64(root), "signed_at": signed_at}
    if orders_root is not None:
        fields["orders_root"] = b64(orders_root)
    return json.dumps(fields, sort_keys=True).encode()


def head_leaf(order_id: UUID, version: int, digest: bytes) -> bytes:
    """The leaf of the orders tree for one order: its latest event in the log, and that
    event's digest (which chains every earlier one)."""
    head = b"protection-orders order head\n" + order_id.bytes + version.to_bytes(8, "big")
    return leaf_hash(hashlib.sha256(head + digest).digest())


class Signer:
    """Signs checkpoints with the service's Ed25519 key; seals events, marks snapshots and
    encrypts the vault with keys derived from it."""

    def __init__(self, private_key: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(private_key)
        self.seal_key = hashlib.sha256(b"protection-orders seal\n" + private_key).digest()
        self.vault_key = hashlib.sha256(b"protection-orders vault\n" + private_key).digest()
        self.snapshot_key = hashlib.sha256(b"protection-orders snapshot\n" + private_key).digest()

    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def checkpoint(
        self, size: int, root: bytes, signed_at: str, orders_root: bytes | None = None
    ) -> Checkpoint:
        statement = _statement(size, root, signed_at, orders_root)
        return Checkpoint(size, root, signed_at, self._key.sign(statement), orders_root)


def signature_holds(public_key: bytes, checkpoint: Checkpoint) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            checkpoint.signature, checkpoint.statement()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)
