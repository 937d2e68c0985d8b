"""Checks that several of an order's decisions share; each raises a named refusal."""

from __future__ import annotations

from datetime import datetime

from orders import errors
from orders.policy import Policy
from orders.values import Terms


def not_in_future(claimed: datetime, recorded: datetime, policy: Policy, *, field: str) -> None:
    """A claimed time may lie ahead of the recorded one only by the policy's tolerance."""
    if claimed > recorded + policy.future_tolerance:
        raise errors.ClaimedTimeInFuture(field, "lies in the future")


def protects_someone_requested(chosen: tuple[str, ...], requested: set[str]) -> None:
    """An order protects at least one person, and only persons named on its request."""
    if not chosen:
        raise errors.InvalidInput("protected_person_ids", "an order must protect someone")
    unknown = set(chosen) - requested
    if unknown:
        raise errors.UnknownProtectedPerson(
            "protected_person_ids", "each must be the person_id of a person on the request"
        )


def met_persons_requested(met: tuple[str, ...], requested: set[str]) -> None:
    """A visit report names as met only persons on the order's request."""
    if not set(met) <= requested:
        raise errors.UnknownProtectedPerson(
            "met_with", "each must be the person_id of a person on the request"
        )


def says_why(reason: str, what: str) -> None:
    """Some decisions must give a reason."""
    if not reason.strip():
        raise errors.InvalidInput("reason", f"{what} must say why")


def within(terms: Terms, at: datetime, *, field: str, ended_at: datetime | None = None) -> None:
    """A claimed time must lie within the order's period of validity."""
    assert terms.valid_until is not None
    if not terms.valid_from <= at <= (ended_at or terms.valid_until):
        raise errors.ClaimedTimeOutOfRange(field, "outside the order's period of validity")


def validity(terms: Terms, policy: Policy) -> datetime:
    """When an order on these terms ends: as asked, or the policy's default for the kind."""
    rules = policy.kinds[terms.kind]
    valid_until = terms.valid_until or terms.valid_from + rules.duration
    if valid_until <= terms.valid_from:
        raise errors.InvalidInput("valid_until", "must be after valid_from")
    runs_at_most(terms, valid_until, policy)
    return valid_until


def runs_at_most(terms: Terms, valid_until: datetime, policy: Policy) -> None:
    """An order runs no longer in all than the policy's maximum for its kind."""
    most = policy.kinds[terms.kind].max_duration
    if valid_until - terms.valid_from > most:
        raise errors.ExtensionBeyondMaximum(f"a {terms.kind} order may run at most {most}")
