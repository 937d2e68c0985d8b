"""Detector rules over several reports of one inspector: a batch entered in one sitting, a
journey no one could make, reports filed from one place. Each flags every report of the
pattern, the earlier ones included, once the examined report completes it; each finding names
the pattern, so a supervisor sees which reports go together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from orders.evidence import Context, Found, Report, Shown, at, days, distance_km, minutes
from orders.policy import DetectorRules
from orders.values import Position, Strength, VisitOutcome

TRAVEL_SPAN = timedelta(hours=12)  # visits claimed further apart are never compared


def batch_entry(report: Report, context: Context) -> list[Found]:
    """Reports entered in one sitting whose claimed visits lie days apart. Typing a report
    takes minutes, so an honest sitting enters the visits of one day, two after a day without
    signal; a sitting claiming visits spread over the week is a week's reports made up at once."""
    rules = context.rules
    sitting = _sitting(report, context.others, rules.batch_window)
    claimed = [r.claimed_at for r in sitting]
    span = max(claimed) - min(claimed)
    if len(sitting) < rules.batch_count or span <= rules.batch_claims_span:
        return []
    on_days = len({moment.date() for moment in claimed})
    evidence = (
        f"one of the {len(sitting)} reports of batch {report.inspector_id} "
        f"{at(sitting[0].recorded_at)}: entered by this inspector up to "
        f"{at(report.recorded_at)} with pauses of at most {minutes(rules.batch_window)}, "
        f"claiming visits on {on_days} days, {days(span)} apart (threshold "
        f"{days(rules.batch_claims_span)})"
    )
    return [Found(r, Strength.STRONG, evidence) for r in sitting]


def _sitting(report: Report, others: Sequence[Report], pause: timedelta) -> list[Report]:
    """The reports entered in one sitting up to `report`: each within `pause` of the next."""
    earlier = sorted(
        (o for o in others if o.recorded_at <= report.recorded_at),
        key=lambda o: o.recorded_at,
        reverse=True,
    )
    sitting = [report]
    for other in earlier:
        if sitting[-1].recorded_at - other.recorded_at > pause:
            break
        sitting.append(other)
    return sitting[::-1]


def impossible_travel(report: Report, context: Context) -> list[Found]:
    """Visits claimed too close together for their distance: a visit takes some minutes, and
    one moves at most `max_speed_kmh` between them. Flags every report of the smallest round
    that cannot be made: two reports, or a run of visits recorded on the spot, whose times
    are known closely enough to put them in order."""
    if report.visit.position is None:
        return []
    rules = context.rules
    placed = [
        o
        for o in context.others
        if o.visit.position is not None and abs(o.claimed_at - report.claimed_at) <= TRAVEL_SPAN
    ]
    exact = _on_the_spot(report, rules)
    pairs = [_by_claim([report, o]) for o in placed if not (exact and _on_the_spot(o, rules))]
    rounds = [pair for pair in pairs if _impossible(pair, rules)]
    if exact:
        run = _by_claim([report, *(o for o in placed if _on_the_spot(o, rules))])
        rounds += _impossible_runs(run, run.index(report), rules)
    first = {(r.order_id, r.version): (r, round_) for round_ in reversed(rounds) for r in round_}
    return [
        Found(r, Strength.STRONG, _journey(r, round_, rules))
        for r, round_ in sorted(first.values(), key=lambda found: _claim_order(found[0]))
    ]


def _claim_order(report: Report) -> tuple[datetime, datetime]:
    return report.claimed_at, report.recorded_at


def _by_claim(reports: list[Report]) -> list[Report]:
    return sorted(reports, key=_claim_order)


def _impossible_runs(run: list[Report], k: int, rules: DetectorRules) -> list[list[Report]]:
    """The runs of visits through `run[k]` that cannot be made, though every shorter run
    through it within them can: a visit between two others claimed too close together."""
    impossible = _impossible_spans(run, k, rules)
    found = []
    for i in range(k + 1):
        for j in range(max(k, i + 1), len(run)):
            if impossible[i, j] and not (
                (i < k and impossible[i + 1, j]) or (j > k and impossible[i, j - 1])
            ):
                found.append(run[i : j + 1])
    return found


def _impossible_spans(run: list[Report], k: int, rules: DetectorRules) -> dict[Span, bool]:
    """`_impossible` of each run `run[a..b]` through `run[k]`, each from the one a report
    shorter: the same sums, added in the same order, as `_time_needed` makes them, in time
    proportional to the spans rather than to their lengths too (a day of visits reported
    on the spot is dozens of reports)."""
    journeys = [distance_km(_placed(a), _placed(b)) for a, b in pairwise(run)]
    found: dict[Span, bool] = {}
    for a in range(k + 1):
        stays, km = timedelta(), 0.0
        for b in range(a, len(run)):
            if b > a:
                stays += _least_stay(run[b - 1], rules)
                km += journeys[b - 1]
            if b >= k:
                needed = stays + timedelta(hours=km / rules.max_speed_kmh)
                found[a, b] = _time_claimed([run[a], run[b]], rules) < needed
    return found


Span = tuple[int, int]  # the first and last index of a run of reports


def _impossible(round_: list[Report], rules: DetectorRules) -> bool:
    return _time_claimed(round_, rules) < _time_needed(round_, rules)


def _time_needed(round_: list[Report], rules: DetectorRules) -> timedelta:
    """The least time the visits of the round take, one after another: each but the last,
    and the journeys between them."""
    visits = sum((_least_stay(r, rules) for r in round_[:-1]), timedelta())
    return visits + timedelta(hours=_km(round_) / rules.max_speed_kmh)


def _least_stay(report: Report, rules: DetectorRules) -> timedelta:
    if report.visit.outcome is VisitOutcome.PERSON_NOT_FOUND:
        return rules.min_visit_not_found
    return rules.min_visit


def _time_claimed(round_: list[Report], rules: DetectorRules) -> timedelta:
    """The most time the claimed times allow, given how precisely each is known."""
    first, last = round_[0], round_[-1]
    return last.claimed_at - first.claimed_at + _slack(first, rules) + _slack(last, rules)


def _km(round_: list[Report]) -> float:
    """The journeys' length, added one by one from the first (as `_impossible_spans` adds
    them: `sum` adds floats otherwise from Python 3.12)."""
    km = 0.0
    for a, b in pairwise(round_):
        km += distance_km(_placed(a), _placed(b))
    return km


def _placed(report: Report) -> Position:
    assert report.visit.position is not None, "travel is judged between positions only"
    return report.visit.position


def _on_the_spot(report: Report, rules: DetectorRules) -> bool:
    """Whether the report was recorded soon enough for its claimed time to be exact, not
    remembered (and rounded) hours later."""
    return report.delay <= rules.on_the_spot


def _slack(report: Report, rules: DetectorRules) -> timedelta:
    return rules.claimed_time_precision if _on_the_spot(report, rules) else rules.remembered_within


def _journey(report: Report, round_: list[Report], rules: DetectorRules) -> str:
    others = ", ".join(f"{r.name} claimed at {at(r.claimed_at)}" for r in round_ if r is not report)
    return (
        f"one of {len(round_)} visits this inspector claims within "
        f"{minutes(round_[-1].claimed_at - round_[0].claimed_at)} ({others}; this one at "
        f"{at(report.claimed_at)}), {_km(round_):.1f} km apart in all: they need at least "
        f"{minutes(_time_needed(round_, rules))} ({minutes(rules.min_visit)} a visit that "
        f"meets her, {minutes(rules.min_visit_not_found)} one that finds no one, "
        f"{rules.max_speed_kmh:g} km/h between them), the times claimed allow at most "
        f"{minutes(_time_claimed(round_, rules))}"
    )


def one_place(report: Report, context: Context) -> list[Found]:
    """Reports on several orders filed from one spot far from each protected person: visits
    written up at a desk, not made."""
    here = report.visit.position
    if here is None or report.presence.shown is not Shown.FAR:
        return []
    rules = context.rules
    since = report.recorded_at - rules.look_back
    there = [
        o
        for o in context.others
        if o.recorded_at >= since
        and o.presence.shown is Shown.FAR
        and o.visit.position is not None
        and distance_km(here, o.visit.position) <= rules.same_place_km
    ]
    orders = {report.order_id, *(o.order_id for o in there)}
    if len(orders) < rules.same_place_orders:
        return []
    spot = sorted([*there, report], key=lambda r: r.recorded_at)
    nearest = min(r.presence.km or 0.0 for r in spot)
    evidence = (
        f"one of {len(spot)} reports on {len(orders)} orders filed by this inspector within "
        f"{rules.same_place_km * 1000:.0f} m of the place of {report.name}, from "
        f"{at(spot[0].recorded_at)} to {at(spot[-1].recorded_at)}; each at least "
        f"{nearest:.1f} km from its protected persons' known locations"
    )
    return [Found(r, Strength.MODERATE, evidence) for r in spot]


def without_position(report: Report, context: Context) -> list[Found]:
    """Report after report with no position, where a phone gives one nearly every time: visits
    reported from afar (a code read out on the phone proves she answered, not that he came)."""
    rules = context.rules
    if report.visit.position is not None:
        return []
    since = report.recorded_at - rules.look_back
    recent = sorted(
        (o for o in context.others if since <= o.recorded_at <= report.recorded_at),
        key=lambda o: o.recorded_at,
    )[-(rules.no_position_of - 1) :]
    blind = [*(o for o in recent if o.visit.position is None), report]
    if len(blind) < rules.no_position_count:
        return []
    evidence = (
        f"one of {len(blind)} of this inspector's last {len(recent) + 1} reports with no "
        f"position (threshold {rules.no_position_count} of {rules.no_position_of}), from "
        f"{at(blind[0].recorded_at)} to {at(report.recorded_at)}"
    )
    return [Found(r, Strength.WEAK, evidence) for r in blind]
