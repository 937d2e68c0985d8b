"""`serve` as a real process: SIGTERM stops the scheduler and the worker cleanly, exit 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_SECONDS = 30
STOP_SECONDS = 30  # generous: a loaded CI machine; a hang still fails


class Served:
    """A `protection-orders serve` process, its standard error read as it comes."""

    def __init__(self, tmp_path: Path, *options: str, **settings: str) -> None:
        env = os.environ | {
            "PROTECTION_ORDERS_DATABASE_URL": f"sqlite:///{tmp_path}/orders.db",
            "PROTECTION_ORDERS_SWEEP_SECONDS": "0.2",
        }
        env |= {f"PROTECTION_ORDERS_{name.upper()}": value for name, value in settings.items()}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", *options],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, text: str) -> None:
        with self.changed:
            seen = self.changed.wait_for(
                lambda: any(text in line for line in self.lines) or self.process.poll() is not None,
                timeout=STARTUP_SECONDS,
            )
        assert seen and self.process.poll() is None, "".join(self.lines)

    def port(self) -> int:
        """The port uvicorn listens on (asked for as 0: any free one)."""
        self.wait_for("Uvicorn running on")
        with self.changed:
            line = next(line for line in self.lines if "Uvicorn running on" in line)
        return int(line.split("Uvicorn running on ")[1].split()[0].rsplit(":", 1)[1])

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_SECONDS)

    def said(self) -> str:
        self.process.wait(timeout=STOP_SECONDS)
        with self.changed:
            return "".join(self.lines)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for served in started:
        if served.process.poll() is None:
            served.process.kill()


def test_the_scheduler_alone_stops_cleanly_on_sigterm(
    tmp_path: Path, serving: list[Served]
) -> None:
    served = Served(tmp_path, "--only", "scheduler")
    serving.append(served)
    served.wait_for("running scheduler")
    assert served.stop() == 0
    said = served.said()
    assert "stopping the scheduler (running jobs finish first)" in said
    assert said.rstrip().endswith("stopped")
    assert "Traceback" not in said


def test_under_uvicorn_sigterm_still_stops_the_scheduler_and_the_worker_cleanly(
    tmp_path: Path, serving: list[Served]
) -> None:
    served = Served(tmp_path, "--port", "0")  # all three parts, on any free port
    serving.append(served)
    served.wait_for("Application startup complete")
    assert served.stop() == 0  # uvicorn alone would re-raise SIGTERM and die of it
    said = served.said()
    assert "Application shutdown complete" in said
    assert "stopping the scheduler (running jobs finish first)" in said
    assert said.rstrip().endswith("stopped")
    assert "Traceback" not in said
