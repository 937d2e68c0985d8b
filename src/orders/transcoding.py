"""How events and their values are written to and read back from the store.

JSON keeps enums as strings and tuples as lists; reading back, values are given their
declared types again, so an event read from the store equals the one that was saved.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import sys
import types
import typing
from array import array
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
)

from orders import values
from orders.alerting import Awaited, Contact, Duties, OpenAlert, Rung
from orders.checkins import CheckIns, Segment
from orders.presence import CodesGiven, PresenceProof, Proof, UsedCodes
from orders.proposals import Lowering
from orders.scrutiny import Alert, Incident, Scrutiny
from orders.state import Breaches, Contacts, Escalations


def coerce(value: Any, hint: Any) -> Any:
    """Give a decoded JSON value its declared type (enums, tuples, optionals, dicts)."""
    convert = converter(hint)
    return value if convert is None else convert(value)


Convert = Callable[[Any], Any]


@functools.cache
def converter(hint: Any) -> Convert | None:
    """How to give a decoded JSON value the declared type `hint` (None stays None), worked
    out once per type; None when the value is already as declared."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return converter(real[0]) if len(real) == 1 else None
    if origin is tuple:
        item = converter(args[0])
        if item is None:
            return lambda v: None if v is None else tuple(v)
        return lambda v: None if v is None else tuple(map(item, v))
    if origin is dict:
        entry = converter(args[1])
        if entry is None:
            return None
        return lambda v: None if v is None else {k: entry(x) for k, x in v.items()}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        members = hint._value2member_map_  # the enum's own lookup, without its call
        return lambda v: None if v is None else members.get(v) or hint(v)
    if hint is UUID:
        return lambda v: v if v is None or isinstance(v, UUID) else UUID(v)
    return None


@functools.cache
def converters(cls: type) -> dict[str, Convert]:
    """The fields of `cls` whose decoded values need their declared type given again."""
    found = {name: converter(hint) for name, hint in typing.get_type_hints(cls).items()}
    return {name: convert for name, convert in found.items() if convert is not None}


class ValueAsDict(Transcoding):
    """Stores a frozen dataclass of ours as a dict of its fields. Read back, the object is
    made without its `__init__` (they have no `__post_init__`): a field missing from the
    stored dict takes its default, and one with no default, or a field the class no longer
    has, is refused as the constructor would refuse it."""

    def __init__(self, cls: type) -> None:
        self.type = cls
        self.name = cls.__name__
        fields = dataclasses.fields(cls)
        self.names = tuple(f.name for f in fields)
        self.fields = frozenset(self.names)
        self.defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self.names}

    def decode(self, data: dict[str, Any]) -> Any:
        for name, convert in converters(self.type).items():
            if name in data:
                data[name] = convert(data[name])
        if len(data) != len(self.fields) or not self.fields.issuperset(data):
            if not self.fields.issuperset(data) or not self.fields <= {*data, *self.defaults}:
                return self.type(**data)  # raises, naming what is missing or unknown
            data = {n: data[n] if n in data else self.defaults[n] for n in self.names}
        obj: Any = object.__new__(self.type)
        obj.__dict__.update(data)
        return obj


COUNTER = next(code for code in "IL" if array(code).itemsize == 4)  # unsigned, 32 bits


class UsedCodesPacked(Transcoding):
    """Stores the codes that proved visits (a snapshot's largest part: one counter a visit)
    as each proof's counters packed in 32 bits, little-endian, in base64: a thousand-event
    order's snapshot reads in half the time of one with a JSON number each (bench.orders).
    A time step fits until the year 6053; a larger counter is refused, not cut."""

    type = UsedCodes
    name = "used_codes_packed"

    def encode(self, obj: UsedCodes) -> list[list[str]]:
        return [[g.proof_id.hex, _pack(g.counters)] for g in obj.given]

    def decode(self, data: list[list[str]]) -> UsedCodes:
        return UsedCodes(tuple(CodesGiven(UUID(proof), _unpack(packed)) for proof, packed in data))


class CodesGivenAsDict(ValueAsDict):
    """The codes of one proof as snapshots written before `UsedCodesPacked` keep them (a
    JSON number each, in the order given), read back in ascending order as CodesGiven keeps
    them. Never written: only read, so those snapshots still spare a replay."""

    def __init__(self) -> None:
        super().__init__(CodesGiven)

    def decode(self, data: dict[str, Any]) -> CodesGiven:
        given: CodesGiven = super().decode(data)
        return CodesGiven(given.proof_id, tuple(sorted(given.counters)))


def _pack(counters: tuple[int, ...]) -> str:
    packed = array(COUNTER, counters)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode()


def _unpack(text: str) -> tuple[int, ...]:
    packed = array(COUNTER)
    packed.frombytes(base64.b64decode(text, validate=True))
    if sys.byteorder == "big":
        packed.byteswap()
    return tuple(sorted(packed))  # as CodesGiven keeps them, whatever the stored order


class DateAsISO(Transcoding):
    """Stores a calendar date (a birth date) as YYYY-MM-DD."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TimedeltaAsMicroseconds(Transcoding):
    """Stores a duration exactly, as a whole number of microseconds."""

    type = timedelta
    name = "timedelta_us"

    def encode(self, obj: timedelta) -> int:
        return obj // timedelta(microseconds=1)

    def decode(self, data: int) -> timedelta:
        return timedelta(microseconds=data)


VALUE_CLASSES = (
    values.Actor,
    values.Location,
    values.ProtectedPerson,
    values.Respondent,
    values.Request,
    values.Terms,
    values.Position,
    values.Visit,
    values.Breach,
    values.Escalation,
    values.Finding,
    CheckIns,
    Segment,
    Alert,
    Incident,
    Rung,
    OpenAlert,
    Awaited,
    Duties,
    Contact,
    Lowering,
    PresenceProof,
    Proof,
    # what the order keeps (orders.state), for its snapshots
    Scrutiny,
    Breaches,
    Escalations,
    Contacts,
)


class OrdersTranscoder(JSONTranscoder):
    """The library's JSON transcoder, reading a stored value back with one lookup of its
    decoder, and a date and time with no Python call of ours (the values most events hold)."""

    def __init__(self) -> None:
        super().__init__()
        self.decoders: dict[str, Callable[[Any], Any]] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self.decoders[transcoding.name] = (
            datetime.fromisoformat if isinstance(transcoding, DatetimeAsISO) else transcoding.decode
        )

    def register_reading(self, transcoding: Transcoding) -> None:
        """Read values stored under `transcoding`'s name (an older way), never write so."""
        self.names[transcoding.name] = transcoding
        self.decoders[transcoding.name] = transcoding.decode

    def _decode_obj(self, d: dict[str, Any]) -> Any:
        if len(d) != 2 or "_data_" not in d or "_type_" not in d:
            return d
        decode = self.decoders.get(d["_type_"])
        if decode is None:
            return super()._decode_obj(d)  # raises, naming the type it cannot read
        return decode(d["_data_"])


def transcoder() -> OrdersTranscoder:
    """A transcoder for every value the orders' events and snapshots hold."""
    made = OrdersTranscoder()
    library = (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO())
    ours = (DateAsISO(), TimedeltaAsMicroseconds(), UsedCodesPacked())
    for transcoding in (*library, *ours, *(ValueAsDict(cls) for cls in VALUE_CLASSES)):
        made.register(transcoding)
    made.register_reading(ValueAsDict(UsedCodes))  # the used codes as first stored
    made.register_reading(CodesGivenAsDict())
    return made


class TypedMapper(Mapper[UUID]):
    """The library's mapper, giving each decoded event field its declared type."""

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = super().to_domain_event(stored_event)
        fields = vars(event)
        for name, convert in converters(type(event)).items():
            if name in fields:
                object.__setattr__(event, name, convert(fields[name]))
        return event
