"""Pages the API serves besides JSON: the printable card of a protected person's codes.

Rendered with Jinja2 (autoescaped) from what the JSON answer holds. A page names neither the
person, the order nor what it is for: it may end up in the abuser's hands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape

_PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
)


def presence_card(
    *, kind: str, secret: str | None, uri: str | None, codes: list[str] | None, reference: str
) -> str:
    """The page she keeps: a QR code and key for her app, or her card of single-use codes."""
    qr = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff") if uri else ""
    groups = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) if secret else ""
    context: dict[str, Any] = {
        "kind": kind,
        "shown": secret is not None,
        "qr": qr,
        "secret_groups": groups,
        "codes": codes or [],
        "reference": reference,
    }
    return _PAGES.get_template("presence_card.html").render(context)
