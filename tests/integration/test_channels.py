"""The channels against real receivers: a webhook the receiver can verify, e-mail refusals
and outages told apart, and no failure that quotes an address."""

from __future__ import annotations

import json
from datetime import timedelta

from notifications.channels import EmailChannel, Envelope, Failed, WebhookChannel, sign
from notifications.worker import Backoff
from orders.clock import SimulatedClock
from tests.receivers import WEBHOOK_SECRET, MailReceiver, WebhookReceiver, free_port

ADDRESS = "someone.private@mail.example"
ENVELOPE = Envelope(
    key="order:7:staff:insp-1:webhook",
    to="+996 700 000 001",
    subject="Alert",
    text="A missed check-in",
    payload={"topic": "alert_raised", "order_id": "order"},
)


def send(channel: EmailChannel | WebhookChannel, envelope: Envelope = ENVELOPE) -> Failed | None:
    try:
        with channel.session() as deliver:
            deliver(envelope)
    except Failed as failed:
        return failed
    return None


def test_a_signed_webhook_passes_the_receivers_checks(webhook: WebhookReceiver) -> None:
    channel = WebhookChannel(webhook.url, WEBHOOK_SECRET.encode(), clock=webhook.clock)
    assert send(channel) is None
    (hook,) = webhook.received
    assert hook.key == ENVELOPE.key
    assert (hook.body["to"], hook.body["message"]) == (ENVELOPE.to, ENVELOPE.payload)


def test_a_wrong_secret_or_a_stale_timestamp_is_refused_for_good(
    webhook: WebhookReceiver, clock: SimulatedClock
) -> None:
    forged = WebhookChannel(webhook.url, b"not-the-secret", clock=clock)
    failed = send(forged)
    assert failed is not None and (failed.error, failed.permanent) == ("HTTPError 401", True)
    late = SimulatedClock(clock() - timedelta(minutes=10))  # a replay of an old message
    failed = send(WebhookChannel(webhook.url, WEBHOOK_SECRET.encode(), clock=late))
    assert failed is not None and failed.error == "HTTPError 401"
    assert webhook.rejected == 2 and webhook.received == []


def test_the_signature_is_over_the_timestamp_and_the_body() -> None:
    body = json.dumps({"a": 1}).encode()
    assert sign(b"k", "1700000000", body) != sign(b"k", "1700000001", body)
    assert sign(b"k", "1700000000", body) != sign(b"k", "1700000000", body + b" ")


def test_a_gateway_in_trouble_is_retried_a_gateway_away_stops_the_batch(
    webhook: WebhookReceiver,
) -> None:
    webhook.failing = 1
    channel = WebhookChannel(webhook.url, WEBHOOK_SECRET.encode(), clock=webhook.clock)
    failed = send(channel)
    assert failed is not None
    assert (failed.error, failed.permanent, failed.channel_down) == ("HTTPError 503", False, False)
    away = WebhookChannel(f"http://127.0.0.1:{free_port()}/hook", b"k", clock=webhook.clock)
    failed = send(away)
    assert failed is not None and failed.channel_down and not failed.permanent


def test_an_email_refused_for_good_or_a_server_down_never_quotes_the_address(
    mail: MailReceiver,
) -> None:
    envelope = Envelope("k:1:contact:c", ADDRESS, "Your order", "text", {})
    mail.refuse.add(ADDRESS)
    refused = send(EmailChannel("127.0.0.1", mail.port, "po@localhost"), envelope)
    assert refused is not None and (refused.error, refused.permanent) == (
        "SMTPRecipientsRefused",
        True,
    )
    mail.stop()
    down = send(EmailChannel("127.0.0.1", mail.port, "po@localhost"), envelope)
    assert down is not None and down.channel_down and not down.permanent
    for failure in (refused, down):
        assert ADDRESS not in str(failure) and ADDRESS not in repr(failure)
    assert ADDRESS not in repr(envelope)


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(timedelta(seconds=10), timedelta(seconds=300))
    waits = [backoff.after(n).total_seconds() for n in range(1, 9)]
    assert waits == [10, 20, 40, 80, 160, 300, 300, 300]
    assert backoff.after(10_000) == timedelta(seconds=300)
