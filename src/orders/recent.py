"""Orders this process saved or loaded lately, kept in memory (decision 024).

A command on an order read lately then reads only the order's events since, in one short
query, instead of its snapshot and the events after it, decoded and checked. What is kept is
never trusted blindly: the query starts at the kept order's last event, and the order is kept
with that event as stored, so a store that no longer holds it as it was (restored from a
backup behind the service's back) is noticed, and the order is read afresh. Each caller gets
a copy of its own: the copy shares the order's values, which are all immutable
(orders.state), and has no pending events, so nothing a command decides reaches the one kept
until it is saved.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent


@dataclass(frozen=True)
class Kept:
    """An order as last seen, and its last event as stored."""

    order: Any
    last: StoredEvent


def copy_of(order: Any) -> Any:
    """A copy of the order that shares its (immutable) values and has no pending events."""
    copied = object.__new__(type(order))
    copied.__dict__.update(order.__dict__)
    copied.__dict__["_pending_events"] = []
    return copied


class RecentOrders:
    """Up to `size` orders, the least recently used forgotten first; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[UUID, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._kept

    def get(self, order_id: UUID) -> Kept | None:
        """The order as kept (a copy to decide on), or None."""
        with self._lock:
            kept = self._kept.get(order_id)
            if kept is None:
                return None
            self._kept.move_to_end(order_id)
        return Kept(copy_of(kept.order), kept.last)

    def keep(self, order: Any, last: StoredEvent) -> None:
        """Keep (a copy of) the order, whose last event is `last` as stored, unless a later
        version of it is kept already."""
        if self.size <= 0:
            return
        kept = Kept(copy_of(order), last)
        with self._lock:
            known = self._kept.get(order.id)
            if known is not None and known.order.version > order.version:
                return
            self._kept[order.id] = kept
            self._kept.move_to_end(order.id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def forget(self, order_id: UUID) -> None:
        with self._lock:
            self._kept.pop(order_id, None)
