"""bench/integrity.py still runs: a few commands on SQLite, its table printed whole."""

from __future__ import annotations

import pytest
from bench.integrity import main


def test_the_integrity_bench_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--engine", "sqlite", "--n", "8", "--rounds", "1", "--case", "20", "--log", "0"])
    table = capsys.readouterr().out
    assert "record a visit (load + 1 event), per s" in table
    assert "checkpoint: verify 40 events and sign" in table
    assert "case of 20 events" in table
    assert "verify_bundle (with the JSON parse)" in table
