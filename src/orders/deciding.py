"""What a command is decided on: the order as read, or as this process wrote it last
(decision 026), the one check every decision makes first, and what a command did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from orders import errors
from orders.commands import Command, Context
from orders.domain import ProtectionOrder


@dataclass(frozen=True)
class Outcome:
    """What a command did: the order as saved, the id of anything new, what the order's
    decision returned, and the log position its events reached (None when nothing was new
    or the outcome is a retry's)."""

    order: ProtectionOrder
    ref: UUID | None
    returned: object
    position: int | None


def decided(
    order: ProtectionOrder, command: Command, context: Context, expected_version: int | None
) -> object:
    """What the order decides on the command, once a pinned version is found to be its own."""
    if expected_version is not None and expected_version != order.version:
        raise errors.VersionMismatch(
            f"the order is at version {order.version}, not the one you decided on: "
            "reload it and decide again"
        )
    return command.decide(order, context)


def decided_unread(
    kept: ProtectionOrder,
    command: Command,
    context: Context,
    expected_version: int | None,
    read: Callable[[], ProtectionOrder],
) -> tuple[ProtectionOrder, object]:
    """The order and what it decided, on `kept`, the order as this process wrote it last, not
    read again. Whatever it decided to write, its save proves it current: it is stored only
    if nobody wrote after `kept` (storage.sealing's links, the events' key), and a conflict
    has it decided again on the order read. A refusal, or a decision of nothing new, writes
    nothing and so proves nothing: it stands only if the order `read` is unchanged, and is
    otherwise made again on that one."""
    try:
        outcome = decided(kept, command, context, expected_version)
    except Exception:
        order = read()
        if order.version == kept.version:
            raise  # refused on the order as it stands
    else:
        if kept.pending_events:
            return kept, outcome
        order = read()
        if order.version == kept.version:
            return kept, outcome
    return order, decided(order, command, context, expected_version)
