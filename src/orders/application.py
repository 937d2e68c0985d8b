"""The application service: one method per use case, each loading, commanding and saving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict, Unpack
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactoryError,
    JSONTranscoder,
    Mapper,
    RecordConflictError,
)
from eventsourcing.utils import EnvType

from orders import errors, ledger
from orders.clock import Clock, system_clock
from orders.disclosure import Disclosure
from orders.domain import ProtectionOrder
from orders.policy import Policy, load_policy
from orders.records import CommandKey, Records, Sealing, SealingFactory
from orders.transcoding import TypedMapper, register_transcodings
from orders.values import (
    SYSTEM_ACTOR,
    Actor,
    BreachResponseKind,
    Condition,
    Decision,
    EscalationTarget,
    Request,
    RiskLevel,
    ServiceMethod,
    Terms,
    Visit,
)

Command = Callable[[ProtectionOrder, datetime], Any]

DEVELOPMENT_SIGNING_KEY = bytes(range(32))  # never in production: settings refuse it there

SENSITIVE_FIELDS = (
    "protected_persons.locations",
    "incident_narrative",
    "visits.position",
    "visits.notes",
    "breaches.description",
)


class Options(TypedDict, total=False):
    """How a command may be qualified: a caller's key for retries, the version it saw."""

    key: CommandKey | None
    expected_version: int | None


class Orders(Application[UUID]):
    """Use cases for protection orders: the only code that loads and saves them."""

    name = "Orders"

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

    def construct_recorder(self) -> ApplicationRecorder:
        """The factory's recorder, built to seal every event it writes with this service's key."""
        if not isinstance(self.factory, SealingFactory):
            raise InfrastructureFactoryError(
                f"{type(self.factory).__name__} cannot seal events: PERSISTENCE_MODULE "
                "must name storage.sqlite or storage.postgres"
            )
        return self.factory.sealing_recorder(Sealing(self.signer.seal_key, self.mapper.cipher))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

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
        return order

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

    def request(
        self, request: Request, *, by: Actor, key: CommandKey | None = None
    ) -> ProtectionOrder:
        """Open a new order from a petitioner's request."""
        if key is not None and (prior := self._prior(key)) is not None:
            return prior[0]
        order = ProtectionOrder.open(request, by=by, at=self.now(), policy=self.policy)
        try:
            self._save(order, key)
        except errors.ConcurrentChange:
            if key is not None and (prior := self._prior(key)) is not None:
                return prior[0]  # the same request, sent twice at once, was stored by the other
            raise
        return order

    def change(
        self,
        order_id: UUID,
        command: Command,
        *,
        key: CommandKey | None = None,
        expected_version: int | None = None,
    ) -> tuple[ProtectionOrder, str]:
        """Load the order, run `command(order, now)` on it, save what it decided.

        With a key, a command already done returns its first result and stores nothing.
        With an expected version, a stale one is refused before anything is decided.
        Returns the order and what the command returned (a new breach or escalation id).
        """
        if key is not None and (prior := self._prior(key)) is not None:
            return prior
        order = self.get(order_id)
        if expected_version is not None and expected_version != order.version:
            raise errors.VersionMismatch(
                f"order {order_id} is at version {order.version}, not {expected_version}: "
                "reload it and decide again"
            )
        returned = command(order, self.now())
        ref = returned if isinstance(returned, str) else ""
        try:
            self._save(order, key, ref)
        except errors.ConcurrentChange:
            if key is not None and (prior := self._prior(key)) is not None:
                return prior  # the same command, sent twice at once, was stored by the other
            raise
        return order, ref

    def _prior(self, key: CommandKey) -> tuple[ProtectionOrder, str] | None:
        found = self.records.find_command_key(key.actor_id, key.key)
        if found is None:
            return None
        if found.fingerprint != key.fingerprint:
            raise errors.InvalidInput("Idempotency-Key", "was already used for another request")
        assert found.order_id is not None
        order: ProtectionOrder = self.repository.get(found.order_id, version=found.version)
        return order, found.ref

    def issue(
        self, order_id: UUID, terms: Terms, *, by: Actor, **options: Unpack[Options]
    ) -> ProtectionOrder:
        """Issue the order on the given terms."""
        p = self.policy
        return self.change(
            order_id, lambda o, at: o.issue(terms, by=by, at=at, policy=p), **options
        )[0]

    def assess_risk(
        self,
        order_id: UUID,
        answers: dict[str, bool],
        *,
        final_level: RiskLevel | None,
        reason: str,
        by: Actor,
        **options: Unpack[Options],
    ) -> ProtectionOrder:
        """Record a risk assessment; the officer may raise the computed level, never lower it."""
        p = self.policy
        return self.change(
            order_id,
            lambda o, at: o.assess_risk(
                answers, final_level=final_level, reason=reason, by=by, at=at, policy=p
            ),
            **options,
        )[0]

    def serve(
        self,
        order_id: UUID,
        *,
        served_at: datetime,
        method: ServiceMethod,
        notes: str,
        by: Actor,
        **options: Unpack[Options],
    ) -> ProtectionOrder:
        """Record that the respondent was notified of the order."""
        p = self.policy
        return self.change(
            order_id,
            lambda o, at: o.serve(
                served_at=served_at, method=method, notes=notes, by=by, at=at, policy=p
            ),
            **options,
        )[0]

    def record_visit(
        self, order_id: UUID, visit: Visit, *, by: Actor, **options: Unpack[Options]
    ) -> ProtectionOrder:
        """Record an inspector's visit to the protected person."""
        p = self.policy
        return self.change(
            order_id, lambda o, at: o.record_visit(visit, by=by, at=at, policy=p), **options
        )[0]

    def report_breach(
        self,
        order_id: UUID,
        *,
        occurred_at: datetime,
        description: str,
        by: Actor,
        **options: Unpack[Options],
    ) -> tuple[ProtectionOrder, str]:
        """Record a reported breach of the order; returns the order and the breach id."""
        p = self.policy
        return self.change(
            order_id,
            lambda o, at: o.report_breach(
                occurred_at=occurred_at, description=description, by=by, at=at, policy=p
            ),
            **options,
        )

    def respond_to_breach(
        self,
        order_id: UUID,
        breach_id: str,
        *,
        response: BreachResponseKind,
        responded_at: datetime,
        notes: str,
        by: Actor,
        **options: Unpack[Options],
    ) -> ProtectionOrder:
        """Record what the police did about a breach."""
        p = self.policy
        return self.change(
            order_id,
            lambda o, at: o.respond_to_breach(
                breach_id,
                response=response,
                responded_at=responded_at,
                notes=notes,
                by=by,
                at=at,
                policy=p,
            ),
            **options,
        )[0]

    def escalate(
        self,
        order_id: UUID,
        *,
        target: EscalationTarget,
        reason: str,
        by: Actor,
        **options: Unpack[Options],
    ) -> tuple[ProtectionOrder, str]:
        """Escalate the order to a supervisor, prosecutor or court; returns the escalation id."""
        return self.change(
            order_id,
            lambda o, at: o.escalate(target=target, reason=reason, by=by, at=at),
            **options,
        )

    def acknowledge_escalation(
        self, order_id: UUID, escalation_id: str, *, by: Actor, **options: Unpack[Options]
    ) -> ProtectionOrder:
        """Record that an escalation was received and taken up."""
        return self.change(
            order_id, lambda o, at: o.acknowledge_escalation(escalation_id, by=by, at=at), **options
        )[0]

    def extend(
        self,
        order_id: UUID,
        *,
        valid_until: datetime,
        reason: str,
        by: Actor,
        **options: Unpack[Options],
    ) -> ProtectionOrder:
        """Extend the order's validity, within the policy's maximum."""
        p = self.policy
        return self.change(
            order_id,
            lambda o, at: o.extend(valid_until=valid_until, reason=reason, by=by, at=at, policy=p),
            **options,
        )[0]

    def modify(
        self,
        order_id: UUID,
        *,
        conditions: tuple[Condition, ...],
        other_conditions: tuple[str, ...],
        protected_person_ids: tuple[str, ...],
        reason: str,
        by: Actor,
        **options: Unpack[Options],
    ) -> ProtectionOrder:
        """Change the conditions or the persons covered."""
        return self.change(
            order_id,
            lambda o, at: o.modify(
                conditions=conditions,
                other_conditions=other_conditions,
                protected_person_ids=protected_person_ids,
                reason=reason,
                by=by,
                at=at,
            ),
            **options,
        )[0]

    def revoke(
        self, order_id: UUID, *, reason: str, by: Actor, **options: Unpack[Options]
    ) -> ProtectionOrder:
        """End the order before its time."""
        return self.change(
            order_id, lambda o, at: o.revoke(reason=reason, by=by, at=at), **options
        )[0]

    def report_death(
        self,
        order_id: UUID,
        person_id: str,
        *,
        died_at: datetime,
        by: Actor,
        **options: Unpack[Options],
    ) -> ProtectionOrder:
        """Record that a protected person has died."""
        p = self.policy
        return self.change(
            order_id,
            lambda o, at: o.report_death(person_id, died_at=died_at, by=by, at=at, policy=p),
            **options,
        )[0]

    def review_finding(
        self,
        order_id: UUID,
        finding_id: str,
        *,
        decision: Decision,
        reason: str,
        by: Actor,
        **options: Unpack[Options],
    ) -> ProtectionOrder:
        """A supervisor confirms or dismisses a detector's finding."""
        return self.change(
            order_id,
            lambda o, at: o.review_finding(
                finding_id, decision=decision, reason=reason, by=by, at=at
            ),
            **options,
        )[0]

    def read_confidential(self, order_id: UUID, *, by: Actor) -> ProtectionOrder:
        """Load the order for a read of its sensitive fields, recording the read first.

        If the record of the read cannot be stored, the read is refused: nobody sees a
        protected person's address without a trace.
        """
        order = self.get(order_id)
        self.save(Disclosure.record(order_id, by=by, fields=SENSITIVE_FIELDS, at=self.now()))
        return order

    def raise_missed_check_ins(self, order_id: UUID, *, attempts: int = 3) -> int:
        """Record one CheckInMissed per overdue window; safe to run twice. Returns how many."""
        for _ in range(attempts):
            order, raised = self.get(order_id), 0
            now = self.now()
            while _is_overdue(order, now):
                order.record_missed_check_in(by=SYSTEM_ACTOR, at=now)
                raised += 1
            try:
                self._save(order)
            except errors.ConcurrentChange:
                continue  # another sweeper or a visit got there first: look again
            return raised
        return 0

    def expire_if_due(self, order_id: UUID) -> bool:
        """Mark the order expired if its validity has run out; False if it was not due."""
        try:
            self.change(order_id, lambda o, at: o.expire(by=SYSTEM_ACTOR, at=at))
        except (errors.OrderNotDueToExpire, errors.ConcurrentChange):
            return False
        return True

    def _save(self, order: ProtectionOrder, key: CommandKey | None = None, ref: str = "") -> None:
        if key is not None:
            key = key.with_result(order.id, order.version, ref)
        try:
            self.save(order, command_key=key)
        except RecordConflictError:
            raise errors.ConcurrentChange(
                f"order {order.id} was changed by someone else; reload it and try again"
            ) from None


def _is_overdue(order: ProtectionOrder, now: datetime) -> bool:
    schedule, due = order.schedule, order.check_in_due
    return schedule is not None and due is not None and now > due + schedule.grace
