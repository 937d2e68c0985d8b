"""bench/orders.py still runs: a small order on SQLite, its table printed whole."""

from __future__ import annotations

import pytest
from bench.orders import main


def test_the_orders_bench_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--engine", "sqlite", "--sizes", "10", "--loads", "3", "--every", "5"])
    table = capsys.readouterr().out
    assert "a snapshot every 5 events" in table
    assert "worst p95 from a snapshot" in table and "worst p95 kept in memory" in table
    assert "writing a snapshot with its events adds" in table
    rows = [line.split() for line in table.splitlines() if line.strip()[:2] in ("10", "14")]
    assert [(row[0], row[1]) for row in rows] == [("10", "0"), ("14", "4")]
