"""The ledger against published vectors: Merkle roots, audit paths, seals and signatures.

The Merkle vectors are Certificate Transparency's classic eight-leaf reference data (RFC 6962,
carried over unchanged by RFC 9162), as published in github.com/transparency-dev/merkle:
  - testonly/constants.go (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1): LeafInputs,
    NodeHashes (level 0 are the leaf hashes) and RootHashes for every tree size 0..8;
  - proof/verify_test.go (commit 02194e9afb6c1d95b5381350007963aa70fff472): inclusionProofs,
    whose leaf numbers count from 1 there and from 0 here.
Nothing below is computed with our own code.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from uuid import UUID

import pytest

from orders import ledger
from orders.ledger import (
    GENESIS,
    Checkpoint,
    MerkleTree,
    Signer,
    event_digest,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    prefix_roots,
    root_from_proof,
    seal,
    signature_holds,
)

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# NodeHashes: level 0 (the leaf hashes), level 1 (pairs), level 2 (fours), level 3 (all eight).
NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
LEAVES = [bytes.fromhex(h) for h in NODES[0]]

# RootHashes, by tree size; the empty tree's root is SHA-256 of nothing (EmptyRootHash).
ROOTS = {
    size: bytes.fromhex(h)
    for size, h in enumerate(
        [
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ]
    )
}

# inclusionProofs: (leaf index from 0, tree size, audit path).
AUDIT_PATHS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
NON_TRIVIAL_PATHS = [(i, n, [bytes.fromhex(h) for h in p]) for i, n, p in AUDIT_PATHS if p]

# RFC 8032, section 7.1, TEST 1 and TEST 2: Ed25519 secret keys, and TEST 1's public key.
SERVICE_KEY = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
SERVICE_PUBLIC_KEY = bytes.fromhex(
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
)
OTHER_KEY = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")

ORDER = UUID("0b1f6c2e-6a57-4d0e-9a53-0c6f2b0e7a11")
SIGNED_AT = "2026-03-02T09:00:00.000000+00:00"


# Merkle tree hashes


def test_a_leaf_is_hashed_with_the_leaf_prefix_as_published() -> None:
    assert [leaf_hash(data) for data in LEAF_INPUTS] == LEAVES


@pytest.mark.parametrize("size", range(9))
def test_the_root_of_the_first_n_reference_leaves_is_the_published_root(size: int) -> None:
    assert merkle_root(LEAVES[:size]) == ROOTS[size]


def test_the_inner_nodes_of_the_full_tree_are_the_published_ones() -> None:
    pairs = [merkle_root(LEAVES[i : i + 2]) for i in range(0, 8, 2)]
    fours = [merkle_root(LEAVES[i : i + 4]) for i in range(0, 8, 4)]
    assert [pairs, fours] == [[bytes.fromhex(h) for h in level] for level in NODES[1:3]]


def test_a_leaf_cannot_pose_as_an_inner_node() -> None:
    # The two leaf hashes under the first pair, offered as one leaf's data, give another hash:
    # leaves and nodes are hashed with different prefixes (0x00 and 0x01).
    posing = leaf_hash(LEAVES[0] + LEAVES[1])
    assert posing != ROOTS[2]
    assert merkle_root([posing]) != ROOTS[2]


# Inclusion proofs


@pytest.mark.parametrize(("index", "size", "path"), AUDIT_PATHS)
def test_the_inclusion_proof_is_the_published_audit_path(
    index: int, size: int, path: list[str]
) -> None:
    assert inclusion_proof(index, LEAVES[:size]) == [bytes.fromhex(h) for h in path]


@pytest.mark.parametrize(("index", "size", "path"), AUDIT_PATHS)
def test_a_published_audit_path_leads_from_its_leaf_to_the_published_root(
    index: int, size: int, path: list[str]
) -> None:
    proof = [bytes.fromhex(h) for h in path]
    assert root_from_proof(index, size, LEAVES[index], proof) == ROOTS[size]


def test_every_leaf_of_every_reference_tree_proves_its_inclusion_in_that_tree() -> None:
    for size in range(1, 9):
        for index in range(size):
            proof = inclusion_proof(index, LEAVES[:size])
            assert root_from_proof(index, size, LEAVES[index], proof) == ROOTS[size], (index, size)


def test_the_last_leaf_of_the_full_tree_is_proved_by_the_three_subtrees_to_its_left() -> None:
    # RFC 9162, 2.1.3.1: PATH(7, D[8]) = [MTH(D[6:7]), MTH(D[4:6]), MTH(D[0:4])].
    path = [bytes.fromhex(NODES[0][6]), bytes.fromhex(NODES[1][2]), bytes.fromhex(NODES[2][0])]
    assert inclusion_proof(7, LEAVES) == path
    assert root_from_proof(7, 8, LEAVES[7], path) == ROOTS[8]


# The ways a proof is corrupted in transparency-dev/merkle's corruptInclusionProof.
CORRUPTIONS = {
    "index - 1": lambda i, n, leaf, p: (i - 1, n, leaf, p),
    "index + 1": lambda i, n, leaf, p: (i + 1, n, leaf, p),
    "index ^ 2": lambda i, n, leaf, p: (i ^ 2, n, leaf, p),
    "size * 2": lambda i, n, leaf, p: (i, n * 2, leaf, p),
    "size / 2": lambda i, n, leaf, p: (i, n // 2, leaf, p),
    "wrong leaf": lambda i, n, leaf, p: (i, n, leaf_hash(b"WrongLeaf"), p),
    "trailing garbage": lambda i, n, leaf, p: (i, n, leaf, [*p, b""]),
    "trailing root": lambda i, n, leaf, p: (i, n, leaf, [*p, ROOTS[n]]),
    "preceding garbage": lambda i, n, leaf, p: (i, n, leaf, [b"", *p]),
    "preceding root": lambda i, n, leaf, p: (i, n, leaf, [ROOTS[n], *p]),
    "first sibling flipped": lambda i, n, leaf, p: (i, n, leaf, [_flip(p[0]), *p[1:]]),
    "last sibling flipped": lambda i, n, leaf, p: (i, n, leaf, [*p[:-1], _flip(p[-1])]),
    "removed sibling": lambda i, n, leaf, p: (i, n, leaf, p[:-1]),
    "inserted sibling": lambda i, n, leaf, p: (i, n, leaf, [p[0], ROOTS[0], *p[1:]]),
}


def _flip(node: bytes) -> bytes:
    return bytes([node[0] ^ 8]) + node[1:]


@pytest.mark.parametrize("corruption", CORRUPTIONS)
@pytest.mark.parametrize(("index", "size", "proof"), NON_TRIVIAL_PATHS)
def test_a_corrupted_proof_does_not_lead_to_the_signed_root(
    corruption: str, index: int, size: int, proof: list[bytes]
) -> None:
    assert root_from_proof(index, size, LEAVES[index], proof) == ROOTS[size]  # intact, it does
    corrupted = CORRUPTIONS[corruption](index, size, LEAVES[index], proof)
    assert root_from_proof(*corrupted) != ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), NON_TRIVIAL_PATHS)
def test_a_proof_longer_or_shorter_than_the_path_leads_nowhere(
    index: int, size: int, proof: list[bytes]
) -> None:
    # RFC 9162, 2.1.3.2: siblings left over once the root is reached, or the root not reached
    # when they run out, fail the proof outright rather than give some other root.
    assert root_from_proof(index, size, LEAVES[index], [*proof, ROOTS[size]]) is None
    assert root_from_proof(index, size, LEAVES[index], proof[:-1]) is None


def test_a_position_outside_the_tree_is_refused() -> None:
    assert root_from_proof(8, 8, LEAVES[7], inclusion_proof(7, LEAVES)) is None
    assert root_from_proof(0, 0, LEAVES[0], []) is None


def test_a_negative_position_is_refused_even_where_its_path_would_match() -> None:
    # The last leaf of a full tree is a right child all the way up; so is every step of an
    # index of -1 in Python's arithmetic. Positions are unsigned in RFC 9162.
    proof = inclusion_proof(7, LEAVES)
    assert root_from_proof(-1, 8, LEAVES[7], proof) is None
    assert root_from_proof(-9, 8, LEAVES[7], proof) is None


def test_a_tampered_leaf_changes_the_root_and_fails_its_published_path() -> None:
    tampered = [*LEAF_INPUTS]
    tampered[5] = bytes.fromhex("40414244")
    assert merkle_root([leaf_hash(data) for data in tampered]) != ROOTS[8]
    index, size, proof = NON_TRIVIAL_PATHS[1]  # leaf 5 of 8
    assert index == 5
    assert root_from_proof(index, size, leaf_hash(tampered[5]), proof) != ROOTS[size]


def test_swapping_two_leaves_changes_the_root() -> None:
    swapped = [LEAVES[1], LEAVES[0], *LEAVES[2:]]
    assert merkle_root(swapped) != ROOTS[8]


# Chained event digests and seals


def test_an_event_digest_depends_on_every_part_of_the_recorded_event() -> None:
    digest = event_digest(GENESIS, ORDER, 1, "Requested", b"{}")
    assert event_digest(GENESIS, ORDER, 1, "Requested", b"{}") == digest
    changed = {
        event_digest(bytes(31) + b"\x01", ORDER, 1, "Requested", b"{}"),
        event_digest(GENESIS, UUID(int=ORDER.int + 1), 1, "Requested", b"{}"),
        event_digest(GENESIS, ORDER, 2, "Requested", b"{}"),
        event_digest(GENESIS, ORDER, 1, "Issued", b"{}"),
        event_digest(GENESIS, ORDER, 1, "Requested", b"{ }"),
    }
    assert digest not in changed
    assert len(changed) == 5


def _chain(events: list[tuple[int, str, bytes]]) -> bytes:
    digest = GENESIS
    for version, topic, state in events:
        digest = event_digest(digest, ORDER, version, topic, state)
    return digest


def test_the_chain_breaks_when_an_event_is_removed_or_two_are_swapped() -> None:
    requested, assessed = (1, "Requested", b"a"), (2, "RiskAssessed", b"b")
    issued = (3, "Issued", b"c")
    honest = _chain([requested, assessed, issued])
    assert _chain([requested, (2, *issued[1:])]) != honest  # one removed, the next renumbered
    assert _chain([requested, (2, *issued[1:]), (3, *assessed[1:])]) != honest  # swapped


def test_a_seal_is_hmac_sha256_as_in_rfc_4231() -> None:
    # RFC 4231, section 4.3 (test case 2): key "Jefe", data "what do ya want for nothing?".
    assert seal(b"Jefe", b"what do ya want for nothing?") == bytes.fromhex(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_each_service_key_seals_differently_and_never_with_the_signing_key_itself() -> None:
    ours, theirs = Signer(SERVICE_KEY), Signer(OTHER_KEY)
    assert ours.seal_key != theirs.seal_key
    assert ours.seal_key != SERVICE_KEY
    assert seal(ours.seal_key, ROOTS[8]) != seal(theirs.seal_key, ROOTS[8])


# Signed checkpoints


def signed(size: int = 8) -> Checkpoint:
    return Signer(SERVICE_KEY).checkpoint(size, ROOTS[size], SIGNED_AT)


def test_the_signers_public_key_is_the_published_one_for_its_secret() -> None:
    assert Signer(SERVICE_KEY).public_key() == SERVICE_PUBLIC_KEY


def test_a_checkpoint_holds_under_the_services_public_key() -> None:
    checkpoint = signed()
    assert (checkpoint.size, checkpoint.root, checkpoint.signed_at) == (8, ROOTS[8], SIGNED_AT)
    assert signature_holds(SERVICE_PUBLIC_KEY, checkpoint)


@pytest.mark.parametrize(
    "change",
    [
        {"size": 7},
        {"size": 9},
        {"root": ROOTS[7]},
        {"signed_at": "2026-03-02T09:00:00.000001+00:00"},
    ],
    ids=["smaller size", "larger size", "another root", "another time"],
)
def test_a_signature_fails_once_the_statement_is_changed(change: dict[str, object]) -> None:
    assert not signature_holds(SERVICE_PUBLIC_KEY, replace(signed(), **change))


def test_a_signature_fails_under_another_key() -> None:
    other_public_key = Signer(OTHER_KEY).public_key()
    assert not signature_holds(other_public_key, signed())
    forged = Signer(OTHER_KEY).checkpoint(8, ROOTS[8], SIGNED_AT)
    assert not signature_holds(SERVICE_PUBLIC_KEY, forged)


def test_a_malformed_key_or_signature_is_a_failed_check_not_an_error() -> None:
    assert not signature_holds(SERVICE_PUBLIC_KEY[:31], signed())
    assert not signature_holds(SERVICE_PUBLIC_KEY, replace(signed(), signature=b"short"))


def test_a_checkpoint_survives_its_json_form_and_still_holds() -> None:
    checkpoint = signed()
    as_json = json.loads(json.dumps(checkpoint.as_json()))
    assert as_json["size"] == 8
    assert as_json["signed_at"] == SIGNED_AT
    assert base64.b64decode(as_json["root"]) == ROOTS[8]
    assert base64.b64decode(as_json["signature"]) == checkpoint.signature
    read_back = Checkpoint.from_json(as_json)
    assert read_back == checkpoint
    assert signature_holds(SERVICE_PUBLIC_KEY, read_back)


def test_a_checkpoint_whose_json_was_edited_no_longer_holds() -> None:
    edited = signed().as_json() | {"size": 9}
    assert not signature_holds(SERVICE_PUBLIC_KEY, Checkpoint.from_json(edited))


def test_every_prefix_is_proven_consistent_and_a_changed_prefix_is_not() -> None:
    leaves = [ledger.leaf_hash(bytes([i])) for i in range(20)]
    for n in range(1, len(leaves) + 1):
        new_root = ledger.merkle_root(leaves[:n])
        for m in range(1, n + 1):
            old_root = ledger.merkle_root(leaves[:m])
            proof = ledger.consistency_proof(m, leaves[:n])
            assert ledger.consistency_holds(m, n, old_root, new_root, proof), (m, n)
            altered = ledger.merkle_root([ledger.leaf_hash(b"x"), *leaves[1:m]])
            assert not ledger.consistency_holds(m, n, altered, new_root, proof), (m, n)
            if proof:
                bent = [bytes(32), *proof[1:]]
                assert not ledger.consistency_holds(m, n, old_root, new_root, bent), (m, n)


def test_the_rfc_9162_example_tree_proofs_have_the_published_shapes() -> None:
    # RFC 9162, 2.1.5: in the 7-leaf tree d0..d6, PROOF(3, D[7]) = [c, d, g, l] (4 hashes),
    # PROOF(4, D[7]) = [l] (1 hash), PROOF(6, D[7]) = [i, j, k] (3 hashes).
    leaves = [ledger.leaf_hash(bytes([i])) for i in range(7)]
    assert len(ledger.consistency_proof(3, leaves)) == 4
    assert ledger.consistency_proof(4, leaves) == [ledger.merkle_root(leaves[4:])]
    assert len(ledger.consistency_proof(6, leaves)) == 3
    assert ledger.consistency_proof(7, leaves) == []


def test_the_roots_of_every_prefix_in_one_pass_are_the_tree_hashes() -> None:
    leaves = [leaf_hash(bytes([i]) * 32) for i in range(37)]
    roots = prefix_roots(leaves, set(range(1, 38)))
    assert roots == {n: merkle_root(leaves[:n]) for n in range(1, 38)}
    assert prefix_roots(leaves, {5, 40}) == {5: merkle_root(leaves[:5])}  # 40: not reached


def test_a_tree_gives_every_leaf_the_proof_inclusion_proof_gives() -> None:
    for n in (1, 2, 3, 7, 8, 13):
        leaves = [leaf_hash(bytes([i]) * 32) for i in range(n)]
        tree = MerkleTree(leaves)
        assert tree.root() == merkle_root(leaves)
        assert [tree.proof(i) for i in range(n)] == [inclusion_proof(i, leaves) for i in range(n)]
