"""Refuse oversized request bodies, and bodies framed two ways, before anything reads them.

A request with both Content-Length and Transfer-Encoding could be read as one request here and
as two by a proxy in front (request smuggling): it is refused, and its connection closed.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024


class BodyLimit:
    """ASGI middleware: a body over `max_bytes` gets 413, one framed both by Content-Length
    and Transfer-Encoding gets 400; neither reaches a route."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        if b"content-length" in headers and b"transfer-encoding" in headers:
            await refuse(send, 400, "ConflictingFraming", BOTH_FRAMINGS)
            return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        chunks, size = [], 0
        while True:  # read it all (at most max_bytes), then replay it to the app
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await refuse(
            send, 413, "PayloadTooLarge", f"the request body exceeds {self.max_bytes} bytes"
        )


BOTH_FRAMINGS = "send either Content-Length or Transfer-Encoding, not both"


async def refuse(send: Send, status: int, error: str, detail: str) -> None:
    """An error answer in the API's one shape; the connection closes after it."""
    content: dict[str, Any] = {"error": error, "detail": detail, "fields": []}
    payload = json.dumps(content).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
