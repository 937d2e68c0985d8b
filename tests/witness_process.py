"""A real witness: `protection-orders witness serve` in a process of its own, on a free local
port, with its own store in a temporary directory, started and stopped by the tests.

Fixtures (registered in tests/conftest.py): `make_witness(*service_keys)` starts one that
trusts those keys; `witness` starts one that trusts the test service's key.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import witness as witness_package
from service.bootstrap import Service
from service.cli import main
from tests.receivers import free_port
from witness.store import Countersigned, Refusal, WitnessStore

SOURCES = Path(witness_package.__file__).resolve().parents[1]
START_SECONDS = 30.0


class WitnessProcess:
    """One witness process and its store; `stop()` ends it (SIGTERM), `start()` again."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = store.parent / f"{store.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        paths = [str(SOURCES), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        command = [sys.executable, "-m", "service.cli", "witness", "serve"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--store", str(self.store), "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the witness exited: {self.log.read_text()}")
            try:
                self.get("/public-key")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the witness did not answer in {START_SECONDS} s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """POST as any client could: the status and the JSON answer, refusals included."""
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            with e:
                return e.code, json.loads(e.read())

    @property
    def public_key(self) -> bytes:
        return WitnessStore(self.store).public_key

    def key_file(self) -> Path:
        """A file with the witness's public key, as `witness public-key` prints it."""
        path = self.store.parent / f"{self.store.name}.pub"
        path.write_text(base64.b64encode(self.public_key).decode() + "\n")
        return path

    def history(self) -> list[Countersigned]:
        return WitnessStore(self.store).history()

    def refusals(self) -> list[Refusal]:
        return WitnessStore(self.store).refusals()


MakeWitness = Callable[..., WitnessProcess]


@pytest.fixture
def make_witness(tmp_path: Path) -> Iterator[MakeWitness]:
    """Starts witnesses, each with a new store (`witness init`) trusting the given keys."""
    started: list[WitnessProcess] = []

    def make(*service_keys: bytes) -> WitnessProcess:
        store = tmp_path / f"witness-{len(started)}"
        key_files = []
        for i, key in enumerate(service_keys):
            key_files += ["--service-key", str(tmp_path / f"service-{len(started)}-{i}.pub")]
            Path(key_files[-1]).write_text(base64.b64encode(key).decode() + "\n")
        assert main(["witness", "init", "--store", str(store), *key_files]) == 0
        process = WitnessProcess(store)
        started.append(process)
        process.start()
        return process

    yield make
    for process in started:
        process.stop()


@pytest.fixture
def witness(make_witness: MakeWitness, service: Service) -> WitnessProcess:
    """A witness process that trusts the test service's signing key."""
    return make_witness(service.orders.signer.public_key())
