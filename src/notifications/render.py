"""What a message reads like: a subject and a few lines, from the outbox's payload alone.

The payload holds only what may leave the building (ids, kinds, rungs, deadlines, districts,
an order's state and dates), so nothing rendered from it can carry more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

KINDS = {
    "missed_check_in": "a missed check-in",
    "breach_unanswered": "a breach with no police response",
    "reassessment_overdue": "an overdue risk reassessment",
    "escalation": "an escalation",
}

STATES = {
    "issued": "was issued",
    "served": "was served on the respondent",
    "expiry_approaching": "ends soon",
    "extended": "was extended",
    "revoked": "was revoked",
    "expired": "has ended",
}


def when(text: str | None) -> str:
    """An ISO time from the payload, as people read it (UTC)."""
    if not text:
        return "-"
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M UTC")


def subject(payload: dict[str, Any]) -> str:
    if payload["topic"] == "integrity_alarm":
        return f"Integrity alarm: {payload['check']}"
    topic, order = payload["topic"], payload["order_id"]
    if "state" in payload:
        return f"Your protection order {STATES.get(payload['state'], payload['state'])}"
    kind = KINDS.get(payload.get("kind", ""), "an alert")
    if topic == "alert_acknowledged":
        return f"Taken up: {kind} on order {order}"
    if topic == "alert_resolved":
        return f"Resolved: {kind} on order {order}"
    return f"Alert (rung {payload.get('rung', 1)}): {kind} on order {order}"


def text(payload: dict[str, Any]) -> str:
    if payload["topic"] == "integrity_alarm":
        return "\n".join(
            [
                f"{subject(payload)} at {when(payload.get('recorded_at'))}.",
                "The event store did not verify; nothing is signed until it does.",
                f"Found: {payload['detail']}",
                "Run `protection-orders verify-store` on the service host, and compare the "
                "store with the witness's latest countersigned checkpoint.",
                f"Alarm: {payload['alarm_id']}",
            ]
        )
    order = payload["order_id"]
    if "state" in payload:
        lines = [f"Protection order {order} {STATES.get(payload['state'], payload['state'])}."]
        for field, label in (
            ("valid_from", "Valid from"),
            ("valid_until", "Valid until"),
            ("served_at", "Served"),
            ("ended_at", "Ended"),
        ):
            if field in payload:
                lines.append(f"{label}: {when(payload[field])}")
        lines.append("You asked to be told about this order. To stop, ask your social worker.")
        return "\n".join(lines)
    kind = KINDS.get(payload.get("kind", ""), "an alert")
    lines = [f"{subject(payload)}", f"District: {payload.get('district', '-')}"]
    if payload["topic"] in ("alert_raised", "alert_climbed"):
        lines.append(f"Addressed to: {payload.get('addressee', '-')}")
        if "due_at" in payload:
            lines.append(f"Fell due: {when(payload['due_at'])}")
        lines.append(f"Acknowledge by: {when(payload.get('acknowledge_by'))}")
        lines.append(
            f"Acknowledge {kind} with POST /orders/{order}/alerts/{payload['alert_id']}"
            "/acknowledgement, or it climbs to the next rung."
        )
    elif payload["topic"] == "alert_acknowledged":
        lines.append(f"Acknowledged: {when(payload.get('acknowledged_at'))}")
    else:
        lines.append(f"Resolved: {when(payload.get('resolved_at'))}")
    lines.append(f"Alert: {payload['alert_id']}")
    return "\n".join(lines)
