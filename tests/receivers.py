"""Real receivers for the notifications: an SMTP server (aiosmtpd) and an HTTP endpoint that
checks each webhook's signature and timestamp, both on free local ports, started by the tests.

Fixtures `mail` and `webhook` (registered in tests/conftest.py) give a running one each.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from orders.clock import SimulatedClock

WEBHOOK_SECRET = "a-webhook-secret-of-at-least-32-characters"
TIMESTAMP_TOLERANCE_SECONDS = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Mail:
    """One e-mail as the SMTP server accepted it."""

    to: list[str]
    message: EmailMessage

    @property
    def key(self) -> str:
        return str(self.message["X-Idempotency-Key"])

    @property
    def text(self) -> str:
        return self.message.as_string()


class MailReceiver:
    """An SMTP server on a local port that keeps what it accepts; it can be stopped (the
    channel goes down) and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Mail] = []
        self.refuse: set[str] = set()  # recipients refused for good (550)
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(Mail(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # the server's own chatter
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def keys(self) -> list[str]:
        with self._lock:
            return [m.key for m in self.received]

    def to(self, address: str) -> list[Mail]:
        with self._lock:
            return [m for m in self.received if address in m.to]


@dataclass
class Hook:
    """One webhook request that passed the signature and timestamp checks."""

    key: str
    body: dict[str, Any]
    answered: int


@dataclass
class WebhookReceiver:
    """An HTTP endpoint that accepts a webhook only with a valid HMAC-SHA256 signature over
    "<timestamp>.<body>" and a timestamp near the service's clock; it can be told to answer
    503 to the next requests (a gateway in trouble) after reading them."""

    clock: SimulatedClock
    secret: bytes = WEBHOOK_SECRET.encode()
    received: list[Hook] = field(default_factory=list)
    rejected: int = 0
    failing: int = 0  # answer 503 to this many more requests
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(receiver.answer(dict(self.headers), body))
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        timestamp = headers.get("X-Timestamp", "")
        expected = hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256)
        signed = hmac.compare_digest(
            headers.get("X-Signature", ""), "sha256=" + expected.hexdigest()
        )
        now = self.clock().timestamp()
        fresh = timestamp.isdigit() and abs(int(timestamp) - now) <= TIMESTAMP_TOLERANCE_SECONDS
        if not (signed and fresh):
            self.rejected += 1
            return 401
        parsed = json.loads(body)
        status = 200
        if self.failing > 0:
            self.failing -= 1
            status = 503
        assert headers.get("Idempotency-Key") == parsed["idempotency_key"]
        self.received.append(Hook(parsed["idempotency_key"], parsed, status))
        return status

    def keys(self) -> list[str]:
        return [hook.key for hook in self.received]

    def deduplicated(self) -> dict[str, dict[str, Any]]:
        """What a receiver that drops repeats by idempotency key keeps: the first of each."""
        kept: dict[str, dict[str, Any]] = {}
        for hook in self.received:
            kept.setdefault(hook.key, hook.body)
        return kept


@pytest.fixture
def mail() -> Iterator[MailReceiver]:
    receiver = MailReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def webhook(clock: SimulatedClock) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(clock)
    receiver.start()
    yield receiver
    receiver.stop()
