"""What an order's later reports are weighed against: alerts, incidents, deaths, findings.

The aggregate keeps one `Scrutiny` value and replaces it as events arrive; the falsification
detectors read it, the order decides with it (a finding once per rule and report, a death
once per person).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from orders.values import Decision, Finding


@dataclass(frozen=True)
class Alert:
    """A missed check-in: the window it was for, and when the service recorded it."""

    opened_at: datetime
    due_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class Incident:
    """A breach, escalation or death: when it is said to have happened, when it was recorded."""

    kind: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class Scrutiny:
    """The alerts, incidents, deaths and findings recorded on one order so far."""

    alerts: tuple[Alert, ...] = ()
    incidents: tuple[Incident, ...] = ()
    dead: tuple[str, ...] = ()  # person ids whose death is recorded
    findings: tuple[Finding, ...] = ()

    def with_alert(self, alert: Alert) -> Scrutiny:
        return replace(self, alerts=(*self.alerts, alert))

    def with_incident(self, incident: Incident) -> Scrutiny:
        return replace(self, incidents=(*self.incidents, incident))

    def with_death(self, person_id: str, died_at: datetime, recorded_at: datetime) -> Scrutiny:
        death = Incident("death", died_at, recorded_at)
        return replace(self, dead=(*self.dead, person_id), incidents=(*self.incidents, death))

    def with_finding(self, finding: Finding) -> Scrutiny:
        return replace(self, findings=(*self.findings, finding))

    def with_review(self, finding_id: UUID, decision: Decision) -> Scrutiny:
        return replace(
            self,
            findings=tuple(
                replace(f, decision=decision) if f.finding_id == finding_id else f
                for f in self.findings
            ),
        )

    def finding(self, finding_id: UUID) -> Finding | None:
        return next((f for f in self.findings if f.finding_id == finding_id), None)

    def already_flagged(self, rule: str, flagged_version: int) -> bool:
        """Whether `rule` has already recorded a finding about the event at that version."""
        return any(f.rule == rule and f.flagged_version == flagged_version for f in self.findings)
