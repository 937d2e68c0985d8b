"""The two ways a message leaves: e-mail through SMTP, and a signed webhook (HTTP POST).

A channel is given an envelope with its one address and sends it, or raises `Failed` naming
the error's class only: an SMTP refusal's text quotes the recipient's address, and a
receiver's answer may quote the body, so neither is ever kept or logged.
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

Send = Callable[["Envelope"], None]
UNFOLDED = email.policy.SMTP.clone(max_line_length=998)
"""Headers on one line each: a folded idempotency key would reach the receiver changed."""


@dataclass(frozen=True)
class Envelope:
    """One message to one address (sensitive), with its idempotency key and what it says."""

    key: str
    to: str
    subject: str
    text: str
    payload: dict[str, Any]

    def __repr__(self) -> str:  # never the address, even in a traceback
        return f"Envelope(key={self.key!r})"


class Failed(Exception):
    """An attempt that did not get through: the error's class, whether trying again may help
    (`permanent`: no), and whether the whole channel is down (the rest of a batch waits)."""

    def __init__(self, error: str, *, permanent: bool = False, channel_down: bool = False):
        super().__init__(error)
        self.error = error
        self.permanent = permanent
        self.channel_down = channel_down


class EmailChannel:
    """Sends e-mail through an SMTP server, one connection per batch."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    @contextmanager
    def session(self) -> Iterator[Send]:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as e:
            raise Failed(type(e).__name__, channel_down=True) from None
        try:
            yield lambda envelope: self._send(smtp, envelope)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _send(self, smtp: smtplib.SMTP, envelope: Envelope) -> None:
        message = EmailMessage(policy=UNFOLDED)
        message["From"] = self.sender
        message["To"] = envelope.to
        message["Subject"] = envelope.subject
        message["Message-ID"] = message_id(envelope.key)
        message["X-Idempotency-Key"] = envelope.key
        message.set_content(envelope.text)
        try:
            smtp.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError) as e:
            raise Failed(type(e).__name__, permanent=True) from None  # this address, for good
        except smtplib.SMTPResponseException as e:
            permanent = 500 <= e.smtp_code < 600
            raise Failed(f"{type(e).__name__} {e.smtp_code}", permanent=permanent) from None
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            raise Failed(type(e).__name__, channel_down=True) from None
        except smtplib.SMTPException as e:
            raise Failed(type(e).__name__) from None


def message_id(key: str) -> str:
    """The e-mail's Message-ID, the same for every attempt: mail systems drop repeats."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@protection-orders>"


class WebhookChannel:
    """POSTs each message as JSON to one URL (an SMS gateway, a dispatch system), signed:
    `X-Signature: sha256=HMAC-SHA256(secret, "<X-Timestamp>.<body>")`."""

    name = "webhook"

    def __init__(
        self, url: str, secret: bytes, *, clock: Callable[[], datetime], timeout: float = 10.0
    ) -> None:
        self.url, self.secret, self.clock, self.timeout = url, secret, clock, timeout

    @contextmanager
    def session(self) -> Iterator[Send]:
        yield self._send

    def _send(self, envelope: Envelope) -> None:
        body = json.dumps(
            {
                "idempotency_key": envelope.key,
                "to": envelope.to,
                "subject": envelope.subject,
                "text": envelope.text,
                "message": envelope.payload,
            },
            sort_keys=True,
        ).encode()
        timestamp = str(int(self.clock().timestamp()))
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": envelope.key,
                "X-Timestamp": timestamp,
                "X-Signature": "sha256=" + sign(self.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as e:
            permanent = 400 <= e.code < 500 and e.code not in (408, 425, 429)
            e.close()
            raise Failed(f"HTTPError {e.code}", permanent=permanent) from None
        except OSError as e:  # refused, unreachable, timed out
            reason = getattr(e, "reason", None)
            name = type(reason).__name__ if isinstance(reason, Exception) else type(e).__name__
            raise Failed(name, channel_down=True) from None


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" under `secret`."""
    return hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
