"""A checkpoint with nothing new to sign costs a few reads, whatever the log's length: it
never reads the log, its seals or the heads (issue 11)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from orders.application import Orders
from orders.clock import SimulatedClock
from orders.records import Records
from orders.values import OrderKind
from service.bootstrap import Service
from service.checkpoints import make_checkpoint
from tests.integration.helpers import issued_order

READS_OF_THE_LOG = {
    "select_log",
    "select_seals",
    "select_seals_of",
    "select_checkpoint_heads",
    "select_notifications",
    "select_events",
}
"""The store's reads whose cost grows with the log. (`select_log_events` after the cursor
reads what is new only, through the log order's index: with nothing new, no row.)"""

STORE = sorted(
    {n for n in dir(Records) if n.startswith(("select_", "find_", "insert_"))}
    | {"select_notifications", "select_events", "max_notification_id", "insert_events"}
)
"""Every read and write of the event store: the Records port's and the library recorder's."""


def calls_of_a_checkpoint_with_nothing_new(orders: Orders, clock: SimulatedClock) -> list[str]:
    """Sign a checkpoint when none is due; the store's methods it called, by name, in order.
    Each call goes to the recorder as before; it is only written down on its way."""
    latest = orders.records.select_latest_checkpoint()
    called: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        for name in STORE:
            patch.setattr(
                orders.recorder, name, _noted(name, getattr(orders.recorder, name), called)
            )
        clock.advance(timedelta(minutes=1))
        assert make_checkpoint(orders, now=clock()) == latest  # nothing new: the same one
    return called


def _noted(name: str, method: Callable[..., Any], called: list[str]) -> Callable[..., Any]:
    def noted(*args: Any, **kwargs: Any) -> Any:
        called.append(name)
        return method(*args, **kwargs)

    return noted


def test_a_checkpoint_with_nothing_new_reads_the_same_few_things_however_long_the_log(
    service: Service, clock: SimulatedClock
) -> None:
    orders = service.orders
    issued_order(orders, kind=OrderKind.COURT)
    make_checkpoint(orders, now=clock())
    short = calls_of_a_checkpoint_with_nothing_new(orders, clock)
    for _ in range(40):  # the log grows forty-one times as long
        issued_order(orders, kind=OrderKind.COURT)
    make_checkpoint(orders, now=clock())
    long = calls_of_a_checkpoint_with_nothing_new(orders, clock)
    assert short == long
    assert not READS_OF_THE_LOG & set(long), long
    assert long == [
        "select_latest_checkpoint",
        "select_cursor",
        "select_entry_at",
        "select_log_events",
    ]
