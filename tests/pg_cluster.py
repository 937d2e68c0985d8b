"""A throwaway PostgreSQL cluster for the tests, or the server named by an environment variable.

PostgreSQL refuses to run as root; as root, the cluster runs as the unprivileged `nobody`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

GIVEN_URL = "PROTECTION_ORDERS_TEST_POSTGRES_URL"
REQUIRED = "PROTECTION_ORDERS_REQUIRE_POSTGRES"


class PostgresUnavailable(Exception):
    """No server was given and none could be started; the message says what to do."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A PostgreSQL server the tests may create databases on. The tests' own skips fsync and
    synchronous commits; a `durable` one (benchmarks) writes as production does."""

    def __init__(self, *, durable: bool = False) -> None:
        self.admin_url = os.environ.get(GIVEN_URL, "")
        self._dir: Path | None = None
        self._durable = durable
        self._paused = False
        if not self.admin_url:
            self._start()

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "nobody", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(args[:1])} failed: {result.stderr.strip()}")

    def _start(self) -> None:
        if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
            raise PostgresUnavailable(
                f"initdb/pg_ctl not on PATH: install PostgreSQL or set {GIVEN_URL}"
            )
        self._dir = Path(tempfile.mkdtemp(prefix="po-pg-"))
        self._dir.chmod(0o755)
        data, port = self._dir / "data", _free_port()
        if os.geteuid() == 0:
            shutil.chown(self._dir, "nobody")
        self._run(
            "initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"
        )
        options = f"-p {port} -k {self._dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self._durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._options = options
        self.resume()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def pause(self) -> None:
        """Shut the server down as an administrator's restart does (its clients are cut)."""
        assert self._dir is not None, "only a cluster these tests started can be stopped"
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "fast", "-w", "stop")
        self._paused = True

    def resume(self) -> None:
        """Start the server (again), on the same port and data."""
        assert self._dir is not None, "only a cluster these tests started can be started"
        log = str(self._dir / "log")
        self._run(
            "pg_ctl", "-D", str(self._dir / "data"), "-o", self._options, "-l", log, "-w", "start"
        )
        self._paused = False

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = "po_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    @property
    def own(self) -> bool:
        """Whether these tests started the server (and so may stop and start it)."""
        return self._dir is not None

    def stop(self) -> None:
        if self._dir is not None:
            if not self._paused:
                self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "immediate", "stop")
            shutil.rmtree(self._dir, ignore_errors=True)
