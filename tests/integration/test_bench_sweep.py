"""bench/sweep.py still runs: a small view and a few missed check-ins on SQLite, its table
printed whole."""

from __future__ import annotations

import pytest
from bench.sweep import main


def test_the_sweep_bench_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--engine", "sqlite", "--orders", "2000", "--runs", "5", "--missed", "4"])
    table = capsys.readouterr().out
    assert "sweep, nothing due, 2,000 orders in the view" in table
    assert "4 missed check-ins: one by one (the path before; baseline)" in table
    assert "4 missed check-ins: the sweep, many orders per transaction" in table
