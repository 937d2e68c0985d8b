"""The composition root: the one place that builds the service's parts and wires them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from eventsourcing.postgres import PostgresFactory

from api.tokens import Tokens
from orders.application import Orders
from orders.clock import Clock, system_clock
from orders.policy import load_policy
from projections import Queries, order_views
from projections.activity import Audit
from projections.deadlines import Deadlines
from projections.disclosures import Disclosures
from projections.follower import Follower
from projections.order_state import OrderStates
from projections.timeline import Timelines
from service.settings import Settings


@dataclass
class Service:
    """The application, its read models and their queries, built for one database."""

    settings: Settings
    orders: Orders
    queries: Queries
    tokens: Tokens

    @property
    def views(self) -> Follower:
        return self.queries.views

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
        settings, orders, Queries.over(views), Tokens(settings.token_key.get_secret_value())
    )
