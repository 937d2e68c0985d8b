"""uvicorn's HTTP/1.1 protocol (h11), with a deadline on reading each request.

h11 refuses a request head over its buffer limit only while the head is still arriving (one
that arrives whole in one read passes), and uvicorn closes a connection left idle between
requests only; a client that sends a head (or a body) a byte at a time, or connects and says
nothing, would hold its connection for ever. Here:

- a head over MAX_HEAD_BYTES is refused however it arrived, with 431;
- each request must arrive whole, head and body, within `request_seconds` of its first byte
  (or of the connection): else the connection is closed, with a 408 if its head never ended;
- a head h11 refuses is answered with the status h11 names, not always 400.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEAD_BYTES = 16 * 1024  # a request line and headers; a bearer token is well under 1 KiB
REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}
WHOLE = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)
"""h11's states of a peer that has nothing more of this request to send."""


class _Guarded(h11.Connection):
    """An h11 connection that refuses a request head over `max_head_bytes` however it arrived,
    and remembers the status its last refusal hinted at."""

    hint = 400

    def __init__(self, *, max_head_bytes: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=max_head_bytes)
        self.max_head_bytes = max_head_bytes

    def next_event(self) -> Any:
        try:
            event = super().next_event()
            if isinstance(event, h11.Request) and _head_bytes(event) > self.max_head_bytes:
                raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
        except h11.RemoteProtocolError as e:
            self.hint = e.error_status_hint
            raise
        return event


def _head_bytes(request: h11.Request) -> int:
    """The size of the request line and headers as sent (give or take their whitespace)."""
    line = len(request.method) + len(request.target) + len(b"  HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items())


class DeadlineH11Protocol(H11Protocol):
    """h11 as uvicorn runs it; a request not read whole within `request_seconds` is cut."""

    request_seconds = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        head_bytes = self.config.h11_max_incomplete_event_size or MAX_HEAD_BYTES
        self.conn = _Guarded(max_head_bytes=head_bytes)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None:
            self._arm()  # the first bytes of the next request on this connection
        super().data_received(data)
        if self.conn.their_state in WHOLE:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        status = self.conn.hint if isinstance(self.conn, _Guarded) else 400
        if status == 400:
            super().send_400_response(msg)
        else:
            self._answer_and_close(status)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE:
            self._answer_and_close(408)  # its head never finished: nothing else is answering
        else:
            self.transport.close()  # the app is answering; it sees the client disconnect

    def _answer_and_close(self, status: int) -> None:
        """A bare answer written past h11 (whose state no longer allows one), then close."""
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            % (status, REASONS.get(status, b"Bad Request"))
        )
        self.transport.close()


def protocol(*, request_seconds: float) -> type[DeadlineH11Protocol]:
    """The protocol class for uvicorn's `http` option, with this deadline."""

    class Configured(DeadlineH11Protocol):
        pass

    Configured.request_seconds = request_seconds
    return Configured
