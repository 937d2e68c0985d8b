"""Case bundles verified offline: with nothing but the bundle and the keys the verifier trusts.

A bundle carries each event's committed form (what the signed log hashes), a readable copy of
it, the order's timeline, an inclusion proof per event, its signed head, the checkpoint and
the key that signed it, and any witness's countersignature. `verify_bundle` trusts none of
the readable parts: each is recomputed from the verified states and compared, and the signer
must be a key the verifier trusts (a file or a fingerprint obtained from the service,
`protection-orders public-key`), never merely the key the bundle carries.

Verdicts, and the command line's exit codes: VERIFIED (0), NOT VERIFIED (1), UNVERIFIED SIGNER
(2: every check holds, but no trusted key was given, so nothing proves who signed).
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from orders import ledger
from orders.commitments import commitment, replaced, withheld
from orders.transcoding import TypedMapper, transcoder
from projections.database import iso
from projections.timeline import claimed_time, summary
from service.countersigned import check_cosignatures
from service.integrity import Finding, event_name

FORMAT = "protection-orders case bundle 2"
WITHHELD = "[withheld: sensitive]"
TIMELINE_FIELDS = ("event_type", "actor_id", "actor_role", "claimed_at", "recorded_at", "summary")


def fingerprint(public_key: bytes) -> str:
    """The SHA-256 of a raw Ed25519 public key, in hex: what a prosecutor compares."""
    return hashlib.sha256(public_key).hexdigest()


def read_public_key(data: bytes) -> bytes:
    """A public key from a file's bytes: raw (32 bytes), base64 or hex, as printed by
    `protection-orders public-key` (whose first line is the base64 key)."""
    if len(data) == 32:
        return data
    text = data.decode("ascii", errors="replace").strip().splitlines()
    first = text[0].strip() if text else ""
    for decode in (lambda t: ledger.unb64(t), bytes.fromhex):
        try:
            key = decode(first)
        except (ValueError, binascii.Error):
            continue
        if len(key) == 32:
            return key
    raise ValueError("not an Ed25519 public key (32 bytes, raw, base64 or hex)")


def readable(form: bytes, shown: dict[str, dict[str, Any]]) -> tuple[Any, str | None]:
    """The readable copy of a committed form, with what is disclosed in place and every other
    sensitive value withheld; or None and why it cannot be read."""
    try:
        content = json.loads(form.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "its state is not valid UTF-8"
    except ValueError:
        return None, "its state is not valid JSON"
    for place, _ in list(withheld(content)):
        content = replaced(content, place, shown[place]["value"] if place in shown else WITHHELD)
    return content, None


@dataclass
class Verification:
    """What a bundle's check found: one verdict line first, then the findings."""

    verdict: str
    findings: list[Finding] = field(default_factory=list)
    exit_code: int = 0

    @property
    def verified(self) -> bool:
        return self.exit_code == 0


def verify_bundle(
    bundle: dict[str, Any],
    *,
    trusted_keys: Iterable[bytes] = (),
    fingerprints: Iterable[str] = (),
    witness_keys: Iterable[bytes] = (),
) -> Verification:
    """Check a case bundle with nothing but itself and the keys the verifier trusts; with
    `witness_keys`, one of those witnesses must have countersigned its checkpoint."""
    order_id = UUID(str(bundle["order_id"]))
    checkpoint = (
        ledger.Checkpoint.from_json(bundle["checkpoint"]) if bundle.get("checkpoint") else None
    )
    trusted = {fingerprint(k): k for k in trusted_keys}
    wanted = {f.strip().lower().replace(":", "") for f in fingerprints} | set(trusted)
    carried = ledger.unb64(str(bundle.get("public_key") or ""))
    signer, signer_finding = _signer(checkpoint, carried, trusted, wanted)
    witnessed, by_witness = check_cosignatures(bundle, checkpoint, witness_keys)
    findings = [signer_finding, *witnessed]
    digests: dict[int, bytes] = {}
    findings.extend(_events(bundle, order_id, checkpoint, digests))
    findings.extend(_complete(bundle, order_id, checkpoint, digests))
    findings.extend(_timeline(bundle, order_id))
    failures = [f for f in findings if not f.holds]
    count = len(bundle["events"])
    if failures:
        first = failures[0]
        return Verification(f"NOT VERIFIED: {first.subject}: {first.detail}", findings, 1)
    assert checkpoint is not None  # a missing checkpoint is a failure
    what = (
        f"order {order_id}, {count} events, complete up to checkpoint of {checkpoint.size} "
        f"events signed {checkpoint.signed_at} by key {signer}{by_witness}"
    )
    if not wanted:
        return Verification(
            f"UNVERIFIED SIGNER: {what} (the key the bundle carries; no trusted key was given, "
            "so nothing shows the service signed it: pass --trusted-key or --fingerprint)",
            findings,
            2,
        )
    return Verification(f"VERIFIED: {what}", findings, 0)


def _signer(
    checkpoint: ledger.Checkpoint | None,
    carried: bytes,
    trusted: dict[str, bytes],
    wanted: set[str],
) -> tuple[str, Finding]:
    if checkpoint is None:
        return "", Finding("checkpoint", False, "the bundle has no signed checkpoint")
    if trusted or wanted:
        keys = dict(trusted)
        if fingerprint(carried) in wanted:
            keys[fingerprint(carried)] = carried
        for fp, key in keys.items():
            if ledger.signature_holds(key, checkpoint):
                return fp, Finding("checkpoint", True, f"signed by trusted key {fp}")
        by = (
            f"by key {fingerprint(carried)}"
            if ledger.signature_holds(carried, checkpoint)
            else "by no key we know (its signature does not hold for the key it carries)"
        )
        return "", Finding(
            "checkpoint",
            False,
            f"signed {by}, which is not a trusted key (trusted: {', '.join(sorted(wanted))})",
        )
    fp = fingerprint(carried)
    if not ledger.signature_holds(carried, checkpoint):
        return fp, Finding("checkpoint", False, "its signature does not hold")
    return fp, Finding(
        "checkpoint",
        True,
        f"of {checkpoint.size} events, signed by key {fp} carried in the bundle: "
        "UNVERIFIED SIGNER, no trusted key given",
    )


def _events(
    bundle: dict[str, Any],
    order_id: UUID,
    checkpoint: ledger.Checkpoint | None,
    digests: dict[int, bytes],
) -> list[Finding]:
    """Each event's chain, inclusion and readable copy; `digests` gets each chained digest."""
    findings = []
    digest, expected = ledger.GENESIS, 1
    for event in bundle["events"]:
        version = int(event["version"])
        subject = f"event {version} ({event_name(str(event['topic']))})"
        problems = []
        if version != expected:
            problems.append(
                f"expected event {expected}: events {expected}..{version - 1} are missing"
                if version > expected
                else f"expected event {expected}: events are out of order"
            )
        if event.get("undecodable"):
            problems.append(f"marked undecodable at export: {event['undecodable']}")
        if event.get("state") is None:
            problems.append("its recorded state is not in the bundle")
            if event.get("record_hash"):  # the chain goes on through what it cannot show
                digest = ledger.chained(digest, ledger.unb64(str(event["record_hash"])))
                digests.setdefault(version, digest)
                problems.extend(_included(event, digest, checkpoint))
            findings.append(Finding(subject, False, "; ".join(problems)))
            expected = version + 1
            continue
        state = ledger.unb64(str(event["state"]))
        digest = ledger.event_digest(digest, order_id, version, str(event["topic"]), state)
        digests.setdefault(version, digest)
        problems.extend(_included(event, digest, checkpoint))
        if not event.get("undecodable"):
            problems.extend(_content_matches(event, state))
        findings.append(
            Finding(
                subject,
                not problems,
                "; ".join(problems) or "content, chain, inclusion and readable copy hold",
            )
        )
        expected = version + 1
    return findings


def _included(
    event: dict[str, Any], digest: bytes, checkpoint: ledger.Checkpoint | None
) -> list[str]:
    if checkpoint is None or event.get("inclusion_proof") is None:
        return ["not covered by a signed checkpoint"]
    proof = [ledger.unb64(p) for p in event["inclusion_proof"]]
    root = ledger.root_from_proof(
        int(event["log_index"]), checkpoint.size, ledger.leaf_hash(digest), proof
    )
    if root != checkpoint.root:
        return ["not in the signed log as it stands (altered, moved or inserted)"]
    return []


def _content_matches(event: dict[str, Any], form: bytes) -> list[str]:
    """The readable copy against the verified committed form, and each disclosed value
    against its commitment (named by its place, never by its value)."""
    try:
        commitments = dict(withheld(json.loads(form.decode("utf-8"))))
    except ValueError:
        return ["its state is not valid JSON, yet it is not marked undecodable"]
    problems, shown = [], {}
    for place, item in dict(event.get("disclosed") or {}).items():
        if place not in commitments:
            problems.append(f"discloses {place}, which its verified state does not hold")
        elif not _discloses(item, commitments[place]):
            problems.append(f"the value disclosed at {place} is not the one recorded")
        else:
            shown[place] = item
    expected, _ = readable(form, shown)
    where = _first_difference(expected, event.get("content"))
    if where is not None:
        problems.append(
            f"its readable copy differs from its verified state at {where or 'the top'}"
        )
    return problems


def _discloses(item: Any, recorded: str) -> bool:
    """Whether a disclosed value with its salt is the one committed to."""
    try:
        return commitment(ledger.unb64(str(item["salt"])), item["value"]) == recorded
    except (KeyError, TypeError, ValueError, binascii.Error):
        return False


def _first_difference(expected: Any, got: Any, path: str = "") -> str | None:
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in [*expected, *(k for k in got if k not in expected)]:
            if key not in expected or key not in got:
                return _join(path, key)
            found = _first_difference(expected[key], got[key], _join(path, key))
            if found is not None:
                return found
        return None
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return path
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            found = _first_difference(e, g, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    return None if expected == got and type(expected) is type(got) else path


def _join(path: str, key: str) -> str:
    if key == "_data_":
        return path
    return f"{path}.{key}" if path else key


def _complete(
    bundle: dict[str, Any],
    order_id: UUID,
    checkpoint: ledger.Checkpoint | None,
    digests: dict[int, bytes],
) -> list[Finding]:
    """The order's head, as the checkpoint signed it: how many events the order had then; the
    bundle must hold each of them, the last one's chain ending at the signed head."""
    if checkpoint is None:
        return []  # already a failure
    if checkpoint.orders_root is None:
        return [
            Finding(
                "order",
                False,
                "its checkpoint was signed before checkpoints named each order's last event, "
                "so nothing shows the bundle is complete: export it again",
            )
        ]
    head: Any = bundle.get("head")
    try:
        count, at, size = int(head["events"]), int(head["index"]), int(head["orders"])
        proof = [ledger.unb64(str(p)) for p in head["proof"]]
    except (KeyError, TypeError, ValueError, binascii.Error):
        return [Finding("order", False, "the bundle does not show the order's signed head")]
    top = max(digests, default=0)
    if count not in digests:
        return [
            Finding(
                "order",
                False,
                f"events {top + 1}..{count} missing: the checkpoint says the order had {count} "
                f"events, the bundle holds {top}",
            )
        ]
    leaf = ledger.head_leaf(order_id, count, digests[count])
    if ledger.root_from_proof(at, size, leaf, proof) != checkpoint.orders_root:
        return [
            Finding(
                "order",
                False,
                f"its head (event {count}) is not the one the checkpoint signed: events were "
                "dropped, altered or the count changed",
            )
        ]
    return [Finding("order", True, f"all {count} events the checkpoint signed for it are here")]


def _timeline(bundle: dict[str, Any], order_id: UUID) -> list[Finding]:
    """Each timeline row recomputed from its event's verified state; none dropped or added."""
    mapper = TypedMapper(transcoder())
    expected: dict[int, dict[str, Any]] = {}
    for event in bundle["events"]:
        if event.get("state") is None or event.get("undecodable"):
            continue
        version = int(event["version"])
        try:
            decoded: Any = mapper.to_domain_event(
                StoredEvent(
                    order_id, version, str(event["topic"]), ledger.unb64(str(event["state"]))
                )
            )
            expected[version] = {
                "event_type": type(decoded).__name__,
                "actor_id": decoded.actor.id,
                "actor_role": str(decoded.actor.role),
                "claimed_at": iso(claimed_time(decoded)),
                "recorded_at": iso(decoded.timestamp),
                "summary": summary(decoded),
            }
        except Exception as e:  # a state the code cannot read: say so
            expected[version] = {"error": f"cannot be decoded ({type(e).__name__})"}
    findings = []
    seen: set[int] = set()
    for row in bundle.get("timeline", []):
        version = int(row.get("version", 0))
        subject = f"timeline row for event {version}"
        if str(row.get("order_id")) != str(order_id):
            findings.append(Finding(subject, False, "belongs to another order"))
            continue
        if version in seen:
            findings.append(Finding(subject, False, "appears twice"))
            continue
        seen.add(version)
        want = expected.get(version)
        if want is None:
            findings.append(Finding(subject, False, "has no verified event in the bundle"))
        elif "error" in want:
            findings.append(Finding(subject, False, f"its event {want['error']}"))
        else:
            wrong = [k for k in TIMELINE_FIELDS if row.get(k) != want[k]]
            findings.append(
                Finding(
                    subject,
                    not wrong,
                    f"{', '.join(wrong)} differ(s) from the verified event"
                    if wrong
                    else "matches the verified event",
                )
            )
    findings.extend(
        Finding(f"timeline row for event {v}", False, "is missing from the timeline")
        for v in sorted(expected)
        if v not in seen
    )
    return findings
