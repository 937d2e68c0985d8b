"""The composition root: the one place that builds the service's parts and wires them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from eventsourcing.postgres import PostgresFactory

from api.tokens import Tokens
from notifications.channels import EmailChannel, WebhookChannel
from notifications.worker import Backoff, Delivery
from orders.application import Orders
from orders.clock import CarriedClock, Clock, system_clock
from orders.policy import load_policy
from projections import Queries, order_views
from projections.activity import Audit
from projections.deadlines import Deadlines
from projections.disclosures import Disclosures
from projections.follower import Follower
from projections.order_state import OrderStates
from projections.outbox import Outbox
from projections.staff import Staff
from projections.timeline import Timelines
from scheduler.detection import Detection
from service.roles import migrate
from service.settings import Settings


@dataclass
class Service:
    """The application, its read models and their queries, built for one database."""

    settings: Settings
    orders: Orders
    queries: Queries
    tokens: Tokens
    delivery: Delivery

    @property
    def views(self) -> Follower:
        return self.queries.views

    @cached_property
    def detection(self) -> Detection:
        """The detectors, built on first use and kept for the service's life: each report
        they judged (against its order at that version, read from the store) stays judged,
        so a new report is compared with an inspector's fortnight of reports without reading
        them all again each run."""
        return Detection(self.orders, self.views)

    @property
    def states(self) -> OrderStates:
        return self.queries.states

    @property
    def timelines(self) -> Timelines:
        return self.queries.timelines

    @property
    def deadlines(self) -> Deadlines:
        return self.queries.deadlines

    @property
    def disclosures(self) -> Disclosures:
        return self.queries.disclosures

    @property
    def audit(self) -> Audit:
        return self.queries.audit

    @property
    def staff(self) -> Staff:
        return self.queries.staff

    @property
    def outbox(self) -> Outbox:
        return self.queries.outbox

    def close(self) -> None:
        self.views.stop()
        self.orders.close()


def database_clock(orders: Orders) -> Clock:
    """PostgreSQL's own clock: recorded times no application host can set."""

    def now() -> datetime:
        moment = orders.records.database_time()
        if moment is None:
            raise RuntimeError("this event store's database has no clock of its own")
        return moment.astimezone(UTC)

    return now


def bootstrap(settings: Settings, *, clock: Clock = system_clock) -> Service:
    """Build the service on the database the settings name.

    Recorded times come from `clock`; by default the service's clock on SQLite and the
    database server's clock on PostgreSQL (read every few seconds, carried forward between).
    """
    settings.check()
    env = settings.persistence_env()
    if settings.owner_database_url is not None:
        migrate(settings)  # as the owner; the service then creates none of the store's tables
    if settings.owner_database_url is not None or not settings.create_tables:
        env |= {"CREATE_TABLE": "false"}
    orders = Orders(
        env,
        policy=load_policy(settings.policy_file),
        clock=clock,
        signing_key=settings.signing_key_bytes(),
    )
    if clock is system_clock and isinstance(orders.factory, PostgresFactory):
        orders.clock = CarriedClock(database_clock(orders))
    views = order_views(orders, clock=clock)
    queries = Queries.over(views)
    return Service(
        settings,
        orders,
        queries,
        Tokens(settings.token_key.get_secret_value(), max_lifetime=settings.token_max_lifetime),
        delivery(settings, orders, queries),
    )


def delivery(settings: Settings, orders: Orders, queries: Queries) -> Delivery:
    """The delivery worker, with the channels the settings configure (no webhook without a
    URL: its messages wait, failing as ChannelNotConfigured, until one is set)."""
    webhook = None
    if settings.webhook_url is not None and settings.webhook_secret is not None:
        webhook = WebhookChannel(
            settings.webhook_url.get_secret_value(),
            settings.webhook_secret.get_secret_value().encode(),
            clock=orders.now,
        )
    return Delivery(
        orders,
        queries.outbox,
        queries.staff,
        email=EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_sender),
        webhook=webhook,
        backoff=Backoff(
            timedelta(seconds=settings.deliver_retry_seconds),
            timedelta(seconds=settings.deliver_retry_max_seconds),
        ),
    )
