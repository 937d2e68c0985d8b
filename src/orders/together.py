"""Commands given to many orders at once, their decisions saved together (decision 022).

The orders are read together (snapshots and the events after them, one query a batch) and
each decides; the decisions are saved in one append. An order appears once in a save, so
several commands to one order go in successive saves, in the order given. The orders are
read rather than decided on as this process wrote them last (decision 026): the read is
shared by the batch, and a batch of orders that other processes wrote since would fail
whole and go one by one. A save that fails (it met another writer, or a link did not hold)
stores nothing, and its orders are handled one by one as `Orders.handle` does, deciding
again on the fresh order: nothing is lost, and nothing is recorded twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import Recording

from orders.commands import Command, Context
from orders.deciding import Outcome
from orders.domain import ProtectionOrder
from orders.values import Actor

if TYPE_CHECKING:
    from orders.application import Orders

log = logging.getLogger(__name__)

Pair = tuple[Command, UUID]


def handle_pairs(
    orders: Orders, pairs: Sequence[Pair], by: Actor, per_save: int
) -> list[Outcome | Exception]:
    """Each command given to its order, up to `per_save` orders a save; one outcome or error
    per pair, in order."""
    outcomes: list[Outcome | Exception | None] = [None] * len(pairs)
    waiting = list(enumerate(pairs))
    while waiting:
        now: list[tuple[int, Pair]] = []
        later: list[tuple[int, Pair]] = []
        seen: set[UUID] = set()
        for i, (command, order_id) in waiting:
            (later if order_id in seen else now).append((i, (command, order_id)))
            seen.add(order_id)
        for start in range(0, len(now), per_save):
            part = now[start : start + per_save]
            done = _together(orders, [pair for _, pair in part], by)
            for (i, _), outcome in zip(part, done, strict=True):
                outcomes[i] = outcome
        waiting = later
    return [o for o in outcomes if o is not None]


def _together(orders: Orders, pairs: Sequence[Pair], by: Actor) -> list[Outcome | Exception]:
    """Pairs of distinct orders, decided at one moment and saved in one append."""
    context = Context(by=by, at=orders.now(), policy=orders.policy, vault=orders.vault)
    loaded = orders.get_many([o for _, o in pairs])
    decided: list[tuple[ProtectionOrder, object] | Exception] = []
    for command, order_id in pairs:
        order = loaded.get(order_id)
        try:
            if isinstance(order, Exception):
                raise order
            assert order is not None
            decided.append((order, command.decide(order, context)))
        except Exception as error:
            decided.append(error)
    recordings: list[Recording[UUID]] | None
    try:
        recordings = orders.save(*(d[0] for d in decided if isinstance(d, tuple)))
    except Exception as error:
        log.info(
            "%d orders saved together failed (%s): one by one", len(pairs), type(error).__name__
        )
        recordings = None
    reached: dict[UUID, int] = {}
    for r in recordings or ():
        order_id = r.domain_event.originator_id
        reached[order_id] = max(reached.get(order_id, 0), r.notification.id)
    outcomes: list[Outcome | Exception] = []
    for (command, order_id), d in zip(pairs, decided, strict=True):
        if isinstance(d, Exception):
            outcomes.append(d)
        elif recordings is not None:
            order, returned = d
            ref = returned if isinstance(returned, UUID) else None
            outcomes.append(Outcome(order, ref, returned, reached.get(order_id)))
        else:
            try:
                outcomes.append(orders.handle(command, order_id, by=by))
            except Exception as error:
                outcomes.append(error)
    return outcomes
