"""After a command: bring the read models up to date, then answer with the new state."""

from __future__ import annotations

import logging

from fastapi import Response

from api.schemas import OrderOut
from orders.domain import ProtectionOrder
from service.bootstrap import Service

log = logging.getLogger(__name__)


def tagged(response: Response, order: ProtectionOrder) -> None:
    """Give the response the order's version as its ETag, for a later If-Match."""
    response.headers["ETag"] = f'"{order.version}"'


def refreshed(service: Service, response: Response, order: ProtectionOrder) -> OrderOut:
    """The order's new state; the read models catch up first so lists show the change.

    The command is already stored: a failure here is logged, not reported as a failed command.
    """
    try:
        service.views.catch_up()
    except Exception:
        log.exception("read models could not catch up after a command on order %s", order.id)
    tagged(response, order)
    return OrderOut.of(order)
