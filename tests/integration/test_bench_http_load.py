"""bench/http_load.py still drives the real service: two API processes sharing one port and a
worker, a second of its mix at a low rate, every request answered and timed; then each kind
alone, with the API's CPU per request."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from bench.http_load import MIX, TOKEN_KEY, Load, Mix, fill, report, run

from api.tokens import Tokens
from service.cli import main


def test_a_second_of_the_mix_reaches_two_api_processes_on_one_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/orders.db"
    mix = Mix(fill(url, orders=8, seed=7), Tokens(TOKEN_KEY), host="127.0.0.1")
    load = Load(
        rates=[20], seconds=1.0, warmup=0.5, generators=1, connections=8, timeout=10.0, alone=20
    )
    step, *alone = run(mix, url, processes=2, shared_port=True, load=load, logs=tmp_path)
    assert len(step.answers) >= 10
    assert not step.errors, step.errors
    assert set(Counter(a.kind for a in step.answers)) == set(MIX)
    assert all(a.latency is not None and a.latency > 0 for a in step.answers)
    said = [(tmp_path / f"api-{i}.log").read_text() for i in (0, 1)]
    assert all('"GET /orders' in log or '"POST /orders' in log for log in said), said
    assert [s.only for s in alone] == list(MIX)  # then each kind alone, for its CPU
    assert all({a.kind for a in s.answers} == {s.only} and not s.errors for s in alone)
    assert all(s.api_ms_per_answer > 0 for s in alone)
    report("a test", [step, *alone])
    table = capsys.readouterr().out
    assert "offered    sent lag p99   ans/s     p50     p99" in table
    assert "get_order p50/p99" in table
    assert "record_visit at 20/s: " in table.split("each kind alone")[1]


def test_a_shared_port_must_be_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--reuse-port", "--port", "0"]) == 2
    assert "give the port the processes share" in capsys.readouterr().err
