"""A witness at another institution: a real process with its own store and key countersigns
the service's checkpoints, refuses what does not extend its history, and so shows a rollback
of the service's database; case bundles carry its countersignature. On both engines."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
import pytest

from orders import ledger
from orders.clock import SimulatedClock
from service.bootstrap import Service
from service.bundles import export_bundle
from service.checkpoints import make_checkpoint
from service.cli import main
from service.integrity import _sealed, verify_store
from service.verification import fingerprint, verify_bundle
from service.witnessing import Outcome, send_to_witnesses
from service.work import jobs
from tests.conftest import ServiceFactory
from tests.factories import INSPECTOR, a_visit_command
from tests.integration.helpers import issued_order
from tests.witness_process import MakeWitness, WitnessProcess


def send(service: Service, *witnesses: WitnessProcess) -> list[Outcome]:
    urls = [w.url for w in witnesses]
    return send_to_witnesses(service.orders, urls, now=service.orders.now(), timeout=5)


def signed(service: Service, clock: SimulatedClock) -> ledger.Checkpoint:
    clock.advance(timedelta(minutes=5))
    return make_checkpoint(service.orders, now=clock())


def visits(service: Service, clock: SimulatedClock, order_id: UUID, count: int) -> None:
    for _ in range(count):
        clock.advance(timedelta(hours=5))
        service.orders.handle(a_visit_command(clock()), order_id, by=INSPECTOR)


def refusals(service: Service) -> list[str]:
    return [reason for _, reason in service.orders.records.select_checkpoint_refusals()]


def leaves(service: Service) -> list[bytes]:
    return [ledger.leaf_hash(ledger.unb64(seal.digest)) for _, seal in _sealed(service.orders)]


def test_a_witness_countersigns_each_checkpoint_that_extends_the_last(
    service: Service, clock: SimulatedClock, witness: WitnessProcess
) -> None:
    order_id = issued_order(service.orders)
    first = signed(service, clock)
    (outcome,) = send(service, witness)
    assert outcome.settled and not outcome.refused
    assert "countersigned 3 events at" in str(outcome)
    visits(service, clock, order_id, 2)
    issued_order(service.orders)
    second = signed(service, clock)
    send(service, witness)
    # the witness keeps both, each countersigned with its own key over the service's statement
    assert [(c.checkpoint, c.cosignature.witness_key) for c in witness.history()] == [
        (first, witness.public_key),
        (second, witness.public_key),
    ]
    (kept,) = service.orders.records.select_checkpoint_cosignatures(second.size)
    assert kept == witness.history()[1].cosignature and kept.holds_for(second)
    assert witness.get("/latest")["checkpoint"] == second.as_json()
    (again,) = send(service, witness)  # nothing new: nothing countersigned twice
    assert "countersigned 8 events already" in str(again)
    assert len(witness.history()) == 2
    assert witness.refusals() == [] and refusals(service) == []


def test_a_witness_refuses_a_checkpoint_no_trusted_key_signed(
    service: Service, clock: SimulatedClock, make_witness: MakeWitness
) -> None:
    stranger = make_witness(ledger.Signer(os.urandom(32)).public_key())
    issued_order(service.orders)
    signed(service, clock)
    (outcome,) = send(service, stranger)
    assert outcome.refused
    (reason,) = refusals(service)
    assert reason.startswith(f"witness {stranger.url} refused the checkpoint of 3 events")
    assert "does not hold for any service key this witness trusts" in reason
    assert stranger.history() == []
    assert stranger.refusals() == []  # anyone could send one: not evidence, not kept
    assert service.orders.records.select_checkpoint_cosignatures(3) == []


def test_a_witness_takes_no_oversized_or_malformed_request(make_witness: MakeWitness) -> None:
    witness = make_witness(ledger.Signer(os.urandom(32)).public_key())
    status, answer = witness.post("/cosign", {"checkpoint": {}, "proof": ["A" * 20_000]})
    assert status == 413 and "exceeds 16384 bytes" in answer["detail"]
    status, answer = witness.post("/cosign", {"checkpoint": {"size": 1}, "from_size": 0})
    assert status == 422 and "send a checkpoint as the service signed it" in answer["detail"]
    status, _ = witness.post("/cosign", {"checkpoint": {}, "from_size": 0, "proof": ["A"] * 65})
    assert status == 422  # a proof longer than any tree needs
    assert witness.get("/latest") == {"checkpoint": None, "cosignature": None}
    assert witness.history() == [] and witness.refusals() == []


def test_a_witness_refuses_a_checkpoint_signed_over_a_rewritten_log(
    service: Service, clock: SimulatedClock, witness: WitnessProcess
) -> None:
    order_id = issued_order(service.orders)
    visits(service, clock, order_id, 2)
    honest = signed(service, clock)
    send(service, witness)
    # an insider with the signing key rewrites the second event and signs the result, grown
    rewritten = leaves(service)
    rewritten[1] = ledger.leaf_hash(bytes(32))
    rewritten += [ledger.leaf_hash(bytes([i]) * 32) for i in (1, 2)]
    forged = service.orders.signer.checkpoint(
        len(rewritten), ledger.merkle_root(rewritten), clock().isoformat()
    )
    status, answer = witness.post(
        "/cosign",
        {
            "checkpoint": forged.as_json(),
            "from_size": honest.size,
            "proof": [ledger.b64(p) for p in ledger.consistency_proof(honest.size, rewritten)],
        },
    )
    assert status == 409
    assert "not consistent with the checkpoint of 5 events" in answer["detail"]
    same_size = service.orders.signer.checkpoint(
        honest.size, ledger.merkle_root(rewritten[: honest.size]), clock().isoformat()
    )
    body = {"checkpoint": same_size.as_json(), "from_size": honest.size, "proof": []}
    status, answer = witness.post("/cosign", body)
    assert status == 409 and "another root" in answer["detail"]
    # both kept, with the signed checkpoints themselves: the service's key signed a fork
    assert [r.checkpoint for r in witness.refusals()] == [forged, same_size]
    assert [c.checkpoint for c in witness.history()] == [honest]
    visits(service, clock, order_id, 1)  # the honest log goes on being countersigned
    signed(service, clock)
    assert send(service, witness)[0].settled
    assert [c.checkpoint.size for c in witness.history()] == [5, 6]


def test_a_witness_that_cannot_be_reached_is_tried_again(
    service: Service, clock: SimulatedClock, witness: WitnessProcess
) -> None:
    issued_order(service.orders)
    signed(service, clock)
    witness.stop()
    (outcome,) = send(service, witness)
    assert outcome.unreachable and not outcome.settled
    assert "could not be asked (ConnectionRefusedError)" in str(outcome)
    assert refusals(service) == []
    witness.start()  # the same store, back
    assert send(service, witness)[0].settled
    assert [c.checkpoint.size for c in witness.history()] == [3]


# A rollback: the service's database restored to an earlier copy behind the witness's back.


def snapshot(database_url: str, tmp_path: Path) -> Callable[[], None]:
    """Take a copy of the database now; the function returned puts it back (the service
    closed). PostgreSQL: the newest events, seals, checkpoints and cosignatures are deleted
    by the superuser, past the triggers, as restoring a dump would lose them."""
    if database_url.startswith("sqlite"):
        path = Path(urlsplit(database_url).path[1:])
        copy = tmp_path / "copy.db"
        with closing(sqlite3.connect(path)) as live, closing(sqlite3.connect(copy)) as kept:
            live.backup(kept)

        def restore_file() -> None:
            for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            shutil.copyfile(copy, path)

        return restore_file
    with psycopg.connect(database_url) as db:
        head = db.execute("SELECT max(notification_id) FROM orders_events").fetchone()
    assert head is not None

    def restore_rows() -> None:
        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute("SET session_replication_role = replica")
            db.execute("DELETE FROM orders_events WHERE notification_id > %s", (head[0],))
            db.execute(
                "DELETE FROM event_seals s WHERE NOT EXISTS (SELECT 1 FROM orders_events e "
                "WHERE e.originator_id::text = s.originator_id "
                "AND e.originator_version = s.version)"
            )
            (count,) = db.execute("SELECT count(*) FROM orders_events").fetchone() or (0,)
            db.execute("DELETE FROM checkpoints WHERE size > %s", (count,))
            db.execute("DELETE FROM checkpoint_cosignatures WHERE size > %s", (count,))

    return restore_rows


@pytest.fixture
def rolled_back(
    service: Service,
    make_service: ServiceFactory,
    database_url: str,
    clock: SimulatedClock,
    tmp_path: Path,
    witness: WitnessProcess,
) -> Service:
    """Countersigned at 3 events, copied, countersigned at 7, then restored to the copy."""
    order_id = issued_order(service.orders)
    signed(service, clock)
    send(service, witness)
    restore = snapshot(database_url, tmp_path)
    issued_order(service.orders)
    visits(service, clock, order_id, 1)
    signed(service, clock)
    send(service, witness)
    assert [c.checkpoint.size for c in witness.history()] == [3, 7]
    service.close()
    restore()
    return make_service()


def test_a_rollback_is_named_by_verify_store_against_the_witness(
    rolled_back: Service,
    witness: WitnessProcess,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert [f for f in verify_store(rolled_back.orders) if not f.holds] == []  # alone, it holds
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    key = witness.key_file()
    assert main(["verify-store", "--witness", witness.url, "--witness-key", str(key)]) == 1
    out = capsys.readouterr().out
    at = witness.history()[1].cosignature.cosigned_at
    assert (
        f"FAIL witness {witness.url}: the witness countersigned 7 events at {at}; this store "
        "holds 3: an older copy was restored or events removed"
    ) in out


def test_a_rollback_is_refused_by_the_witness_when_the_next_checkpoint_comes(
    rolled_back: Service, witness: WitnessProcess, clock: SimulatedClock
) -> None:
    for _ in range(2):  # the restored log grows past what the witness countersigned
        issued_order(rolled_back.orders)
    checkpoint = signed(rolled_back, clock)  # the service alone signs it: its log verifies
    assert checkpoint.size == 9
    (outcome,) = send(rolled_back, witness)
    assert outcome.refused
    contradiction, refused = refusals(rolled_back)
    assert contradiction.startswith(f"witness {witness.url}: the witness countersigned 7 events")
    assert "first 7 events are not those" in contradiction
    assert refused.startswith(f"witness {witness.url} refused the checkpoint of 9 events")
    assert "not consistent with the checkpoint of 7 events" in refused
    (kept,) = witness.refusals()
    assert kept.checkpoint == checkpoint  # the witness keeps what the service signed
    assert [c.checkpoint.size for c in witness.history()] == [3, 7]


# Case bundles carry the countersignature; `verify --witness-key` requires it.


@pytest.fixture
def countersigned_case(service: Service, clock: SimulatedClock, witness: WitnessProcess) -> UUID:
    order_id = issued_order(service.orders)
    visits(service, clock, order_id, 2)
    signed(service, clock)
    send(service, witness)
    service.views.catch_up()
    return order_id


def test_a_bundle_carries_the_countersignature_and_verify_can_require_it(
    service: Service, countersigned_case: UUID, witness: WitnessProcess
) -> None:
    bundle = export_bundle(service.orders, service.timelines, countersigned_case)
    (carried,) = bundle["cosignatures"]
    assert carried == witness.history()[0].cosignature.as_json()
    service_key = service.orders.signer.public_key()
    checked = verify_bundle(bundle, trusted_keys=[service_key], witness_keys=[witness.public_key])
    assert checked.verified, checked.verdict
    assert checked.verdict.endswith(
        f"countersigned by witness {fingerprint(witness.public_key)} at {carried['cosigned_at']}"
    )

    def verdict(edited: dict[str, object], witness_key: bytes = witness.public_key) -> str:
        result = verify_bundle(edited, trusted_keys=[service_key], witness_keys=[witness_key])
        assert not result.verified
        return result.verdict

    assert "countersigned only by witness" in verdict(bundle, os.urandom(32))
    assert "carries no countersignature" in verdict({**bundle, "cosignatures": []})
    for field, value in (("cosigned_at", "2020-01-01T00:00:00+00:00"), ("signature", "AA==")):
        edited = {**bundle, "cosignatures": [{**carried, field: value}]}
        assert "does not hold for this checkpoint" in verdict(edited)
    moved = json.loads(json.dumps(bundle))
    moved["checkpoint"]["signed_at"] = "2020-01-01T00:00:00+00:00"  # and it binds the checkpoint
    assert not verify_bundle(moved, witness_keys=[witness.public_key]).verified


def test_verify_with_a_witness_key_from_the_command_line(
    service: Service,
    countersigned_case: UUID,
    witness: WitnessProcess,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    bundle, service_key = tmp_path / "case.json", tmp_path / "service.pub"
    assert main(["export", str(countersigned_case), "--out", str(bundle)]) == 0
    assert main(["public-key"]) == 0
    service_key.write_text(capsys.readouterr().out)
    assert main(["witness", "public-key", "--store", str(witness.store)]) == 0
    witness_key = tmp_path / "witness.pub"
    witness_key.write_text(capsys.readouterr().out)
    argv = ["verify", str(bundle), "--trusted-key", str(service_key)]
    assert main([*argv, "--witness-key", str(witness_key)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("VERIFIED:")
    assert f"countersigned by witness {fingerprint(witness.public_key)} at" in first
    stranger = tmp_path / "stranger.pub"
    stranger.write_text(base64.b64encode(os.urandom(32)).decode())
    assert main([*argv, "--witness-key", str(stranger)]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("NOT VERIFIED: witness: the checkpoint is countersigned only by")


# The command line and the scheduler.


def test_witness_commands_init_send_history_and_verify_store(
    service: Service,
    clock: SimulatedClock,
    witness: WitnessProcess,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (witness.store / "witness.key").stat().st_mode & 0o777 == 0o600
    again = ["witness", "init", "--store", str(witness.store), "--service-key", "x"]
    assert main(again) == 2  # one key per store, never overwritten
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    capsys.readouterr()
    assert main(["witness", "send"]) == 2
    assert "PROTECTION_ORDERS_WITNESS_URLS is not set" in capsys.readouterr().err
    monkeypatch.setenv("PROTECTION_ORDERS_WITNESS_URLS", witness.url)
    issued_order(service.orders)
    signed(service, clock)
    assert main(["witness", "send"]) == 0
    assert "countersigned 3 events at" in capsys.readouterr().out
    assert main(["witness", "history", "--store", str(witness.store)]) == 0
    assert "countersigned 3 events, root" in capsys.readouterr().out
    assert main(["verify-store", "--witness", witness.url, "--all"]) == 0
    assert f"ok   witness {witness.url}: countersigned 3 events at" in capsys.readouterr().out


def test_the_scheduler_sends_each_new_checkpoint_to_the_witnesses_once(
    make_service: ServiceFactory, clock: SimulatedClock, witness: WitnessProcess
) -> None:
    service = make_service(witness_urls=[witness.url])
    (job,) = [job for job in jobs(service) if job.name == "witness"]
    assert job.run() == ""  # no checkpoint yet
    issued_order(service.orders)
    signed(service, clock)
    assert "countersigned 3 events at" in str(job.run())
    assert job.run() == ""  # settled: not sent again
    assert [c.checkpoint.size for c in witness.history()] == [3]
    assert "witness" not in [job.name for job in jobs(make_service())]  # none configured


def test_export_has_what_is_new_signed_and_countersigned_first(
    service: Service,
    countersigned_case: UUID,
    clock: SimulatedClock,
    witness: WitnessProcess,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With witnesses configured, a bundle of an order with events after the countersigned
    checkpoint still carries a countersignature over all of them."""
    visits(service, clock, countersigned_case, 1)
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    monkeypatch.setenv("PROTECTION_ORDERS_WITNESS_URLS", witness.url)
    out = tmp_path / "case.json"
    assert main(["export", str(countersigned_case), "--out", str(out)]) == 0
    bundle = json.loads(out.read_text())
    assert bundle["head"]["events"] == 6
    checked = verify_bundle(
        bundle,
        trusted_keys=[service.orders.signer.public_key()],
        witness_keys=[witness.public_key],
    )
    assert checked.verified, checked.verdict
    assert "countersigned by witness" in checked.verdict
