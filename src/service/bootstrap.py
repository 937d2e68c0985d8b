"""The composition root: the one place that builds the service's parts and wires them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from eventsourcing.postgres import PostgresFactory

from api.tokens import Tokens
from orders.application import Orders
from orders.clock import Clock, system_clock
from orders.policy import load_policy
from projections import order_views
from projections.activity import Audit
from projections.deadlines import Deadlines
from projections.disclosures import Disclosures
from projections.order_state import OrderStates
from projections.runner import ProjectionRunner
from projections.timeline import Timelines
from service.settings import Settings


@dataclass
class Service:
    """The application, its read models and their queries, built for one database."""

    settings: Settings
    orders: Orders
    views: ProjectionRunner
    states: OrderStates
    timelines: Timelines
    deadlines: Deadlines
    tokens: Tokens
    disclosures: Disclosures
    audit: Audit

    def close(self) -> None:
        self.views.stop()
        self.orders.close()


def database_clock(orders: Orders) -> Clock:
    """PostgreSQL's own clock: recorded times no application host can set."""

    def now() -> datetime:
        rows = orders.recorder.query("SELECT clock_timestamp() AS now")  # type: ignore[attr-defined]
        moment: datetime = rows[0]["now"]
        return moment.astimezone(UTC)

    return now


def bootstrap(settings: Settings, *, clock: Clock = system_clock) -> Service:
    """Build the service on the database the settings name.

    Recorded times come from `clock`; by default the service's clock on SQLite and the
    database server's clock on PostgreSQL.
    """
    settings.check()
    orders = Orders(
        settings.persistence_env(),
        policy=load_policy(settings.policy_file),
        clock=clock,
        signing_key=settings.signing_key_bytes(),
    )
    if clock is system_clock and isinstance(orders.factory, PostgresFactory):
        orders.clock = database_clock(orders)
    views = order_views(orders)
    return Service(
        settings,
        orders,
        views,
        OrderStates(views.db),
        Timelines(views.db),
        Deadlines(views.db),
        Tokens(settings.token_key.get_secret_value()),
        Disclosures(views.db),
        Audit(views.db),
    )
