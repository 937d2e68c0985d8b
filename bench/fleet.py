"""The real service as separate processes, as production runs it, and the CPU each part uses.

`serve --only api` once per API process, each on its own port or all on one shared port
(`serve --reuse-port`), and one `serve --only projections --only scheduler`; each process's
standard error goes to a file of its own in `logs`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from service.settings import PREFIX

STARTUP_SECONDS = 60
STOP_SECONDS = 30
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def said(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while text not in self.said():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.said()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Fleet:
    """The service's processes on one database: its API processes and their ports, its worker."""

    api: list[Process]
    worker: Process
    ports: list[int]
    postgres: list[int] = field(default_factory=list)  # the server's own process first

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far, by part: the API processes, the worker, PostgreSQL."""
        return {
            "api": sum(cpu_seconds(p.popen.pid) for p in self.api),
            "worker": cpu_seconds(self.worker.popen.pid),
            "postgres": postgres_cpu_seconds(self.postgres[0]) if self.postgres else 0.0,
        }


@contextmanager
def running(
    database_url: str,
    *,
    processes: int,
    shared_port: bool,
    logs: Path,
    settings: dict[str, str],
) -> Iterator[Fleet]:
    """`processes` API processes and one worker on the database, stopped when the block ends."""
    env = os.environ | {PREFIX + "DATABASE_URL": database_url} | settings
    ports = [free_port()] * processes if shared_port else [free_port() for _ in range(processes)]
    started: list[Process] = []

    def start(name: str, *options: str) -> Process:
        log = logs / f"{name}.log"
        with log.open("wb") as err:
            popen = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "serve", *options],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        started.append(Process(name, popen, log))
        return started[-1]

    try:
        reuse = ["--reuse-port"] if shared_port else []
        api = [
            start(f"api-{i}", "--only", "api", "--port", str(port), *reuse)
            for i, port in enumerate(ports)
        ]
        worker = start("worker", "--only", "projections", "--only", "scheduler")
        for process in api:
            process.wait_for("Application startup complete")
        worker.wait_for("running projections, scheduler")
        postgres = postgres_pids(database_url) if database_url.startswith("postgres") else []
        yield Fleet(api, worker, sorted(set(ports)), postgres)
    finally:
        for process in started:
            process.stop()


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User and system CPU of a process (and of its children it has waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICKS


def postgres_pids(database_url: str) -> list[int]:
    """The server's own process, from its checkpointer's parent; [] if not on this host."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
        ).fetchone()
    if row is None:
        return []
    try:
        return [_parent(int(row[0]))]
    except FileNotFoundError:
        return []


def postgres_cpu_seconds(server: int) -> float:
    """The server's CPU: its own, its backends' and workers' now, and the ended ones'."""
    total = cpu_seconds(server, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _parent(int(entry.name)) == server:
                    total += cpu_seconds(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
