"""The service's side of the witness's HTTP API (witness.api): ask for its latest countersigned
checkpoint and its key, send it a checkpoint with a consistency proof.

Every call has a bounded timeout and reads at most 64 KiB of answer. Errors name the error's
class or the HTTP status, never an answer's body, and a URL is shown without credentials.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from orders import ledger
from orders.cosignatures import Cosignature
from service.settings import without_credentials

MAX_ANSWER_BYTES = 64 * 1024
MAX_REASON_CHARS = 500


class Unreachable(Exception):
    """The witness could not be asked (down, unreachable, timed out, or it answered nonsense);
    the message names the error's class or the status only. Try again later."""


class WitnessRefused(Exception):
    """The witness refused the checkpoint; the message is its reason."""


class WitnessStale(Exception):
    """The witness's latest moved since it was asked (another sender was first); ask again."""


def shown(url: str) -> str:
    """A witness's URL fit to print: no user, password, query or fragment."""
    return without_credentials(url).rstrip("/")


class WitnessClient:
    """One witness, asked over HTTP with a timeout."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def latest(self) -> tuple[ledger.Checkpoint, Cosignature] | None:
        """The witness's latest countersigned checkpoint and its countersignature, if any."""
        answer = self._call("GET", "/latest")
        if answer.get("checkpoint") is None:
            return None
        try:
            return (
                ledger.Checkpoint.from_json(answer["checkpoint"]),
                Cosignature.from_json(answer["cosignature"]),
            )
        except (KeyError, ValueError, TypeError) as e:
            raise Unreachable(
                f"its /latest is not a countersigned checkpoint ({type(e).__name__})"
            ) from None

    def public_key(self) -> bytes:
        """The key the witness says it signs with (pin it with a key obtained otherwise)."""
        try:
            return ledger.unb64(str(self._call("GET", "/public-key")["public_key"]))
        except (KeyError, ValueError) as e:
            raise Unreachable(f"its /public-key is not a key ({type(e).__name__})") from None

    def cosign(self, checkpoint: ledger.Checkpoint, *, from_size: int, proof: list[bytes]) -> Any:
        """Ask the witness to countersign; its answer, or WitnessRefused / WitnessStale."""
        body = {
            "checkpoint": checkpoint.as_json(),
            "from_size": from_size,
            "proof": [ledger.b64(p) for p in proof],
        }
        return self._call("POST", "/cosign", body)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _json(response.read(MAX_ANSWER_BYTES + 1))
        except urllib.error.HTTPError as e:
            try:
                detail = _detail(e.read(MAX_ANSWER_BYTES + 1))
            finally:
                e.close()
            if e.code == 409:
                raise WitnessRefused(detail.removeprefix("refused: ")) from None
            if e.code == 412:
                raise WitnessStale(detail) from None
            raise Unreachable(f"HTTP {e.code}") from None
        except OSError as e:  # refused, unreachable, timed out
            reason = getattr(e, "reason", None)
            name = type(reason).__name__ if isinstance(reason, Exception) else type(e).__name__
            raise Unreachable(name) from None


def _json(raw: bytes) -> Any:
    if len(raw) > MAX_ANSWER_BYTES:
        raise Unreachable(f"its answer is over {MAX_ANSWER_BYTES} bytes")
    try:
        return json.loads(raw)
    except ValueError:
        raise Unreachable("its answer is not JSON") from None


def _detail(raw: bytes) -> str:
    """The reason a witness gave (FastAPI's {"detail": ...}), cut to a sentence's length."""
    try:
        detail = json.loads(raw[:MAX_ANSWER_BYTES]).get("detail")
    except (ValueError, AttributeError):
        detail = None
    text = " ".join(str(detail or "no reason given").split())
    return text[:MAX_REASON_CHARS]
