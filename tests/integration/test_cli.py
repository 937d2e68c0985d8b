"""The command line on both engines: demo data in every state, rebuild, status, sweep."""

from __future__ import annotations

import pytest

from orders.values import Status
from projections.order_state import OrderFilter
from service.bootstrap import bootstrap
from service.cli import main
from service.settings import Settings


def test_demo_fills_the_store_with_orders_in_every_state_then_rebuild_and_status_work(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", database_url)
    assert main(["demo", "--orders", "60", "--seed", "3"]) == 0
    assert "done:" in capsys.readouterr().err
    service = bootstrap(Settings(database_url=database_url))
    try:
        states = service.states.find(OrderFilter(limit=1000), now=service.orders.now())
        assert len(states) == 60
        assert {row["status"] for row in states} >= {
            Status.REQUESTED,
            Status.ISSUED,
            Status.EXPIRED,
        }
        assert any(row["missed_check_ins"] for row in states)
        timeline_rows = service.views.db.query("SELECT COUNT(*) AS n FROM timeline")[0]["n"]
    finally:
        service.close()

    assert main(["rebuild"]) == 0
    assert "rebuilding read models" in capsys.readouterr().err
    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert f"timeline: position {timeline_rows} of {timeline_rows} (0 behind)" in status
    assert main(["sweep"]) == 0
    assert "recorded 0 missed check-in(s)" in capsys.readouterr().err  # demo ends swept


def test_a_bad_database_url_is_refused_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_DATABASE_URL", "mysql://somewhere/orders")
    assert main(["status"]) == 2
    assert "must start with sqlite:/// or postgresql://" in capsys.readouterr().err
