"""Proof of presence over HTTP: a protected person's codes, enrolled and shown once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api import access, pages
from api.deps import OptionsDep, PartsDep, UserDep
from api.schemas.errors import responses
from api.schemas.orders import OrderOut
from orders.commands import EnrolPresenceProof, NewProof
from orders.presence import ProofKind, card_codes, provisioning_uri

router = APIRouter(prefix="/orders", tags=["order commands"])


class PresenceProofOut(BaseModel):
    """A proof just enrolled: its secret, shown this once and never again."""

    proof_id: UUID
    person_id: str
    kind: ProofKind
    secret: str | None = Field(
        description="Base32, for an authenticator app; null when this answers a retried "
        "request (the secret is shown once: enrol again to replace it)."
    )
    otpauth_uri: str | None = Field(description="The secret as a QR code's content.")
    card_codes: list[str] | None = Field(
        description="For a printed card: single-use codes, in order (kind card only)."
    )
    order: OrderOut


@router.post(
    "/{order_id}/presence-proofs",
    operation_id="enrol_presence_proof",
    status_code=201,
    responses={
        **responses(401, 403, 404, 409, 412, 413, 422),
        201: {
            "description": "The proof and its secret; with `Accept: text/html`, the page she "
            "keeps (a QR code for her app, or her card of codes), printable.",
            "content": {"text/html": {}},
        },
    },
    openapi_extra=access.rule(EnrolPresenceProof.may),
    response_model=PresenceProofOut,
)
def enrol_presence_proof(
    order_id: UUID,
    body: EnrolPresenceProof,
    parts: PartsDep,
    user: UserDep,
    options: OptionsDep,
    request: Request,
    response: Response,
) -> Any:
    """Give a protected person codes to prove visits; the secret is in this answer only."""
    outcome = parts.orders.handle(
        body,
        order_id,
        by=user.actor,
        key=options.key,
        expected_version=options.expected_version,
        loaded=getattr(request.state, "checked_order", None),  # its scope checked on it
    )
    parts.queries.views.wake()
    response.headers["Cache-Control"] = "no-store"
    response.headers["ETag"] = f'"{outcome.order.version}"'
    if outcome.position is not None:
        response.headers["X-Log-Position"] = str(outcome.position)
    new = outcome.returned if isinstance(outcome.returned, NewProof) else None
    proof = next(
        p
        for p in reversed(outcome.order.proofs)
        if p.person_id == body.person_id and (new is None or p.proof_id == new.proof_id)
    )
    secret = None if new is None else new.secret
    card = body.kind is ProofKind.CARD and secret is not None
    shown = PresenceProofOut(
        proof_id=proof.proof_id,
        person_id=proof.person_id,
        kind=proof.kind,
        secret=secret,
        otpauth_uri=None if secret is None else provisioning_uri(secret, proof.proof_id),
        card_codes=card_codes(secret, proof.codes) if card and secret else None,
        order=OrderOut.of(outcome.order),
    )
    if "text/html" not in request.headers.get("accept", ""):
        return shown
    page = pages.presence_card(
        kind=shown.kind.value,
        secret=shown.secret,
        uri=shown.otpauth_uri,
        codes=shown.card_codes,
        reference=shown.proof_id.hex[:8],
    )
    return HTMLResponse(page, status_code=201, headers=dict(response.headers))
