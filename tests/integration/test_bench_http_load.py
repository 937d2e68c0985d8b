"""bench/http_load.py still drives the real service: two API processes sharing one port and a
worker, a second of its mix at a low rate, every request answered and timed."""

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
    load = Load(rates=[20], seconds=1.0, warmup=0.5, generators=1, connections=8, timeout=10.0)
    (step,) = run(mix, url, processes=2, shared_port=True, load=load, logs=tmp_path)
    assert len(step.answers) >= 10
    assert not step.errors, step.errors
    assert set(Counter(a.kind for a in step.answers)) == set(MIX)
    assert all(a.latency is not None and a.latency > 0 for a in step.answers)
    said = [(tmp_path / f"api-{i}.log").read_text() for i in (0, 1)]
    assert all('"GET /orders' in log or '"POST /orders' in log for log in said), said
    report("a test", [step])
    table = capsys.readouterr().out
    assert "offered    sent lag p99   ans/s     p50     p99" in table
    assert "get_order p50/p99" in table


def test_a_shared_port_must_be_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--reuse-port", "--port", "0"]) == 2
    assert "give the port the processes share" in capsys.readouterr().err
