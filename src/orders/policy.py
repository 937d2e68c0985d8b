"""The jurisdiction's rules, read from one versioned file; never literals in code.

Each decision that depends on the policy copies what it used (and the version) into its
event, so a later policy never rewrites an old obligation.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orders.alerting import AlertKind, Rung
from orders.values import OrderKind, RiskLevel

PositiveDuration = Annotated[timedelta, Field(gt=timedelta(0))]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KindRules(_Frozen):
    """How long an order of one kind runs by default, and the most it may run in all."""

    duration: PositiveDuration
    max_duration: PositiveDuration


class PerLevel(_Frozen):
    """One duration per risk level."""

    low: PositiveDuration
    medium: PositiveDuration
    high: PositiveDuration
    extreme: PositiveDuration

    def __getitem__(self, level: RiskLevel) -> timedelta:
        value: timedelta = getattr(self, level.value)
        return value


class CheckInCadence(_Frozen):
    """How often an inspector must check in, per risk level; a level left out has no required
    check-ins."""

    low: PositiveDuration | None = None
    medium: PositiveDuration | None = None
    high: PositiveDuration | None = None
    extreme: PositiveDuration | None = None

    def __getitem__(self, level: RiskLevel) -> timedelta | None:
        value: timedelta | None = getattr(self, level.value)
        return value


class Thresholds(_Frozen):
    """The least score that reaches each level above low."""

    medium: int
    high: int
    extreme: int


class RiskInstrument(_Frozen):
    """A yes/no questionnaire whose weighted score gives the computed risk level."""

    name: str
    questions: dict[str, int]
    thresholds: Thresholds

    def level_for(self, answers: dict[str, bool]) -> RiskLevel:
        score = sum(self.questions[q] for q, yes in answers.items() if yes)
        for level in (RiskLevel.EXTREME, RiskLevel.HIGH, RiskLevel.MEDIUM):
            if score >= getattr(self.thresholds, level.value):
                return level
        return RiskLevel.LOW


RETIRED = {  # detector thresholds no rule uses any more, and why
    "backdated_after": "delay alone tells no backfill from a late report",
    "far_from_location_km": "a visit far from her without a code is flagged as unproven",
}


class DetectorRules(_Frozen):
    """Thresholds of the falsification detectors; decision 018 says why each is what it is."""

    # Presence: whether protected persons give verified codes at visits. Until they do, a
    # position within `near_location_km` of one of their known locations proves presence;
    # once they do, only a code does (a mock-location app fakes a position, not a code), and
    # a visit said to have met her without one is flagged.
    codes_expected: bool = False
    near_location_km: Annotated[float, Field(gt=0)] = 0.5
    # Batch entry: reports entered with pauses of at most `batch_window`, `batch_count` or
    # more of them, whose claimed visits lie more than `batch_claims_span` apart.
    batch_window: PositiveDuration = timedelta(minutes=10)
    batch_count: Annotated[int, Field(ge=2)] = 3
    batch_claims_span: PositiveDuration = timedelta(hours=48)
    # Impossible travel: a visit that meets the protected person takes at least `min_visit`,
    # one that finds no one `min_visit_not_found`; between homes one moves at most
    # `max_speed_kmh` door to door. A time claimed within `on_the_spot` of its recording is
    # taken as known to `claimed_time_precision`, one claimed later as remembered to
    # `remembered_within`.
    min_visit: PositiveDuration = timedelta(minutes=15)
    min_visit_not_found: PositiveDuration = timedelta(minutes=5)
    max_speed_kmh: Annotated[float, Field(gt=0)] = 40.0
    on_the_spot: PositiveDuration = timedelta(hours=1)
    claimed_time_precision: PositiveDuration = timedelta(minutes=2)
    remembered_within: PositiveDuration = timedelta(minutes=30)
    # The rules over an inspector's recent reports look back this far.
    look_back: PositiveDuration = timedelta(days=14)
    # One place: reports on `same_place_orders` or more orders, filed within `same_place_km`
    # of one another, each far from its protected persons.
    same_place_km: Annotated[float, Field(gt=0)] = 0.15
    same_place_orders: Annotated[int, Field(ge=2)] = 3
    # Without a position: `no_position_count` or more of the inspector's last
    # `no_position_of` reports carry no position.
    no_position_count: Annotated[int, Field(ge=2)] = 4
    no_position_of: Annotated[int, Field(ge=2)] = 10

    @model_validator(mode="before")
    @classmethod
    def _no_retired_thresholds(cls, data: object) -> object:
        retired = sorted(set(RETIRED) & set(data)) if isinstance(data, dict) else []
        if retired:
            name = retired[0]
            raise ValueError(f"{name} is retired ({RETIRED[name]}; decision 018): remove it")
        return data


class PresenceRules(_Frozen):
    """How a code she gives is checked: how near the claimed visit time an app's code must
    have been made, how far to look for one made at another time, codes on a printed card."""

    near: PositiveDuration = timedelta(hours=1)
    lookaround: PositiveDuration = timedelta(days=2)
    card_codes: Annotated[int, Field(ge=10, le=200)] = 40


class Ladders(_Frozen):
    """Per kind of alert, who is told first and the rungs it climbs while unacknowledged."""

    missed_check_in: Annotated[tuple[Rung, ...], Field(min_length=1)]
    breach_unanswered: Annotated[tuple[Rung, ...], Field(min_length=1)]
    reassessment_overdue: Annotated[tuple[Rung, ...], Field(min_length=1)]
    escalation: Annotated[tuple[Rung, ...], Field(min_length=1)]

    def __getitem__(self, kind: AlertKind) -> tuple[Rung, ...]:
        ladder: tuple[Rung, ...] = getattr(self, kind.value)
        return ladder

    @model_validator(mode="after")
    def _rungs_have_time(self) -> Ladders:
        for kind in AlertKind:
            for rung in self[kind]:
                if rung.acknowledge_within <= timedelta(0):
                    raise ValueError(f"ladders.{kind}: acknowledge_within must be positive")
        return self


class Policy(_Frozen):
    """One version of the rules: durations, cadences, grace, tolerance, risk instrument."""

    version: str
    future_tolerance: timedelta
    check_in_grace: timedelta
    check_in_at_end: bool
    late_report_period: PositiveDuration
    kinds: dict[OrderKind, KindRules]
    check_in_every: CheckInCadence
    reassess_every: PerLevel
    risk_instrument: RiskInstrument
    detectors: DetectorRules = DetectorRules()
    presence: PresenceRules = PresenceRules()
    ladders: Ladders
    breach_response_within: PositiveDuration
    reassess_after_breach: PositiveDuration
    expiry_notice_before: PositiveDuration
    no_lowering_after_breach: Annotated[timedelta, Field(ge=timedelta(0))] = timedelta(0)

    @model_validator(mode="after")
    def _check_ins_at_least_as_tight_as_reassessment_when_threat_is_high(self) -> Policy:
        for level in (RiskLevel.HIGH, RiskLevel.EXTREME):
            every = self.check_in_every[level]
            if every is None:
                raise ValueError(f"check_in_every.{level} is required: {level} threat needs them")
            if every > self.reassess_every[level]:
                raise ValueError(f"check_in_every.{level} must not exceed reassess_every.{level}")
        missing = set(OrderKind) - set(self.kinds)
        if missing:
            raise ValueError(f"kinds is missing {sorted(missing)}")
        return self


class PolicyFileError(Exception):
    """The policy file is missing or does not hold a valid policy; says which and where."""


def load_policy(path: Path | None = None) -> Policy:
    """Read the policy from `path`, or the packaged default when `path` is None."""
    try:
        if path is None:
            text = resources.files("orders").joinpath("default_policy.toml").read_text()
        else:
            text = path.read_text(encoding="utf-8")
        return Policy.model_validate(tomllib.loads(text))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise PolicyFileError(f"cannot read policy file {path}: {e}") from e
    except ValidationError as e:
        raise PolicyFileError(f"policy file {path} is not valid:\n{e}") from e
