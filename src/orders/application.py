"""The application service: one load-decide-save path for every command, and the reads."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactoryError,
    Mapper,
    RecordConflictError,
    Transcoder,
)
from eventsourcing.utils import EnvType

from orders import deciding, errors, ledger, together
from orders.clock import Clock, system_clock
from orders.commands import Command, Context, OpeningCommand
from orders.deciding import Outcome as Outcome  # where callers have long found it
from orders.disclosure import SENSITIVE_FIELDS, Disclosure
from orders.domain import ProtectionOrder
from orders.loading import SnapshotRepository
from orders.policy import Policy, load_policy
from orders.records import CommandKey, Records, Sealing, SealingFactory
from orders.snapshotting import Snapshotting
from orders.transcoding import TypedMapper, transcoder
from orders.values import Actor
from orders.vault import SealedVault

CONFLICT_ATTEMPTS = 3
log = logging.getLogger(__name__)

DEVELOPMENT_SIGNING_KEY = bytes(range(32))  # never in production: settings refuse it there


class Orders(Snapshotting):
    """Use cases for protection orders: the only code that loads and saves them."""

    name = "Orders"
    snapshotting_intervals = {ProtectionOrder: 10}  # decision 021: chosen by bench.orders
    kept_types = (ProtectionOrder,)  # kept in memory once read (orders.recent): immutable state

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        policy: Policy | None = None,
        clock: Clock = system_clock,
        signing_key: bytes | None = None,
    ) -> None:
        self.policy = policy or load_policy()
        self.clock = clock
        self.signer = ledger.Signer(signing_key or DEVELOPMENT_SIGNING_KEY)
        super().__init__(env)
        if not isinstance(self.recorder, Records):
            raise TypeError(f"{type(self.recorder).__name__} does not keep orders.records.Records")
        self.records: Records = self.recorder  # the same recorder, seen through our port
        self.vault = SealedVault(self.records, self.signer.vault_key)

    def construct_recorder(self) -> ApplicationRecorder:
        """The factory's recorder, built to seal every event it writes with this service's key."""
        if not isinstance(self.factory, SealingFactory):
            raise InfrastructureFactoryError(
                f"{type(self.factory).__name__} cannot seal events: PERSISTENCE_MODULE "
                "must name storage.sqlite or storage.postgres"
            )
        sealing = Sealing(self.signer.seal_key, self.mapper.cipher, self.mapper.compressor)
        return self.factory.sealing_recorder(sealing)

    def construct_transcoder(self) -> Transcoder:
        """Ours, reading every value of an order's events and snapshots (orders.transcoding)."""
        return transcoder()

    def construct_mapper(self) -> Mapper[UUID]:
        stock = super().construct_mapper()
        return TypedMapper(stock.transcoder, compressor=stock.compressor, cipher=stock.cipher)

    def now(self) -> datetime:
        """The recorded time for a new event: always the service's clock, never a client's."""
        return self.clock()

    def get(self, order_id: UUID) -> ProtectionOrder:
        try:
            order: ProtectionOrder = self.repository.get(order_id)
        except AggregateNotFoundError:
            raise errors.OrderNotFound(order_id) from None
        if not isinstance(order, ProtectionOrder):  # a disclosure's or staff member's id
            raise errors.OrderNotFound(order_id)
        return order

    def get_many(self, order_ids: Sequence[UUID]) -> dict[UUID, ProtectionOrder | Exception]:
        """Each order as `get` gives it, or the error it raises, read together where the
        repository can (orders.loading)."""
        if not isinstance(self.repository, SnapshotRepository):
            return {order_id: self._got(order_id) for order_id in order_ids}
        loaded = self.repository.get_many(order_ids)
        found: dict[UUID, ProtectionOrder | Exception] = {}
        for order_id in order_ids:
            order = loaded.get(order_id)
            if isinstance(order, ProtectionOrder | Exception):
                found[order_id] = order
            else:
                found[order_id] = errors.OrderNotFound(order_id)
        return found

    def _got(self, order_id: UUID) -> ProtectionOrder | Exception:
        try:
            return self.get(order_id)
        except Exception as error:
            return error

    def as_of(self, order_id: UUID, moment: datetime) -> ProtectionOrder:
        """The order as the record stood at `moment`: only events recorded by then."""
        events = list(self.repository.event_store.get(order_id))
        if not events:
            raise errors.OrderNotFound(order_id)
        known = [
            e.originator_version
            for e in events
            if isinstance(e, ProtectionOrder.Event) and e.timestamp <= moment
        ]
        if not known:
            raise errors.OrderNotFound(order_id, at=moment)
        order: ProtectionOrder = self.repository.get(order_id, version=max(known))
        return order

    def handle(
        self,
        command: Command | OpeningCommand,
        order_id: UUID | None = None,
        *,
        by: Actor,
        key: CommandKey | None = None,
        expected_version: int | None = None,
        loaded: ProtectionOrder | None = None,
    ) -> Outcome:
        """Load the order, let it decide on the command, save what it decided. An order this
        process wrote last is decided on as it wrote it, unread; its save proves it current
        (`_decide`).

        `loaded` is the order as the caller just loaded it (the API checks the caller's scope
        on it), decided on at the first attempt instead of loading it again; it must be the
        caller's own (`get` gives each a copy), as the decision changes it.

        With a key, a command already done returns its first outcome and stores nothing. The
        key is looked up only when it matters, not before every command: a repeat's save
        meets the key stored with the first (the key's own unique row), and a repeat refused
        (the first changed the order) is answered with the first's outcome all the same. A
        command that keeps something beside the order as it decides looks its key up first.
        With an expected version, a stale one is refused before anything is decided, and so
        is a write that meets another writer's. Without one, a write that meets another
        writer's is decided again on the fresh order (the rules are checked again), a few
        times at most.
        """
        prior = self._prior(key) if key is not None and command.writes_beside else None
        if prior is not None:
            return prior  # a repeat decided again would keep another secret, never used
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            first = attempt == 1
            try:
                order, returned = self._decide(
                    command, order_id, by, expected_version, loaded if first else None, unread=first
                )
            except errors.DomainError:
                if key is not None and (prior := self._prior(key)) is not None:
                    return prior  # a repeat, refused now that the first was done
                raise
            ref = returned if isinstance(returned, UUID) else None
            try:
                position = self._save(order, key, ref)
            except errors.ConcurrentChange:
                if key is not None and (prior := self._prior(key)) is not None:
                    return prior  # the same command, sent twice at once, was stored by the other
                if expected_version is not None:
                    raise errors.VersionMismatch(
                        "the order was changed by someone else after the version you decided "
                        "on: reload it and decide again"
                    ) from None
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                continue
            return Outcome(order, ref, returned, position)
        raise AssertionError("unreachable")

    def handle_each(
        self, command: Command, order_ids: Sequence[UUID], *, by: Actor, per_save: int = 100
    ) -> list[Outcome | Exception]:
        """Give one command to each order, up to `per_save` orders' decisions saved in one
        transaction (orders.together); one outcome or error per order, in order. An order
        that cannot be loaded or refuses the command gets its error and holds back no other."""
        return together.handle_pairs(self, [(command, o) for o in order_ids], by, per_save)

    def handle_pairs(
        self, pairs: Sequence[tuple[Command, UUID]], *, by: Actor, per_save: int = 100
    ) -> list[Outcome | Exception]:
        """Give each command to its order, as `handle_each` does; several to one order are
        given in the order they come."""
        return together.handle_pairs(self, pairs, by, per_save)

    def _decide(
        self,
        command: Command | OpeningCommand,
        order_id: UUID | None,
        by: Actor,
        expected_version: int | None,
        loaded: ProtectionOrder | None = None,
        *,
        unread: bool = False,
    ) -> tuple[ProtectionOrder, object]:
        """The order and what it decided: on `loaded`, or with `unread` on the order as this
        process wrote it last (orders.deciding), or on the order read."""
        context = Context(by=by, at=self.now(), policy=self.policy, vault=self.vault)
        if isinstance(command, OpeningCommand):
            return command.open(context), None
        assert order_id is not None, f"{type(command).__name__} needs an order"
        if loaded is not None and loaded.id == order_id and not loaded.pending_events:
            return loaded, deciding.decided(loaded, command, context, expected_version)
        kept = self.kept_unread(order_id) if unread else None
        if kept is not None:
            read = partial(self.get, order_id)
            return deciding.decided_unread(kept, command, context, expected_version, read)
        order = self.get(order_id)
        return order, deciding.decided(order, command, context, expected_version)

    def kept_unread(self, order_id: UUID) -> ProtectionOrder | None:
        """A copy of the order as this process wrote it last, not read again, if it is kept
        and the store vouches for what this process wrote (orders.records): to decide on
        only where the save proves it current (orders.deciding)."""
        if not isinstance(self.repository, SnapshotRepository):
            return None
        order = self.repository.kept(order_id)
        if isinstance(order, ProtectionOrder) and self.records.vouches(order_id, order.version):
            return order
        return None

    def _prior(self, key: CommandKey) -> Outcome | None:
        found = self.records.find_command_key(key.actor_id, key.key)
        if found is None:
            return None
        if found.fingerprint != key.fingerprint:
            raise errors.InvalidInput("Idempotency-Key", "was already used for another request")
        assert found.order_id is not None
        order: ProtectionOrder = self.repository.get(found.order_id, version=found.version)
        return Outcome(order, UUID(found.ref) if found.ref else None, None, None)

    def read_confidential(self, order_id: UUID, *, by: Actor) -> Outcome:
        """Load the order for a read of its sensitive fields, recording the read first.

        If the record of the read cannot be stored, the read is refused: nobody sees a
        protected person's address without a trace. The outcome's position is the record's.
        """
        order = self.get(order_id)
        disclosure = Disclosure.record(order_id, by=by, fields=SENSITIVE_FIELDS, at=self.now())
        recordings = self.save(disclosure)
        position = max((r.notification.id for r in recordings), default=None)
        return Outcome(order, None, None, position)

    def _save(
        self, order: ProtectionOrder, key: CommandKey | None = None, ref: UUID | None = None
    ) -> int | None:
        """Store what the order decided; returns the log position reached (None: nothing new)."""
        if key is not None:
            key = key.with_result(order.id, order.version, "" if ref is None else str(ref))
        try:
            recordings = self.save(order, command_key=key)
        except RecordConflictError:
            raise errors.ConcurrentChange(
                "the order was changed by someone else; reload it and try again"
            ) from None
        return max((r.notification.id for r in recordings), default=None)
