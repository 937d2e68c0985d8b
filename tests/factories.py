"""Realistic values for tests: a mother and her child, a violent spouse, an inspector.

Domain values (`a_request`, `terms`, `a_visit`) drive the aggregate directly; commands
(`request_order`, `an_assessment`, `issue_order`, `a_visit_command`) go through
`Orders.handle`; `request_json` is the same request as the API receives it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from orders.commands import AssessRisk, IssueOrder, RecordVisit, RequestOrder
from orders.values import (
    Actor,
    Channel,
    Condition,
    FirearmsAccess,
    OrderKind,
    ProtectedPerson,
    Relationship,
    Request,
    Respondent,
    Role,
    Sex,
    Terms,
    ViolenceType,
    Visit,
    VisitOutcome,
)

SOCIAL_WORKER = Actor("sw-aigerim", Role.SOCIAL_WORKER)
INSPECTOR = Actor("insp-bakyt", Role.INSPECTOR)
SUPERVISOR = Actor("chief-nurlan", Role.SUPERVISOR)

HIGH_RISK_ANSWERS = {"threats_to_kill": True, "strangulation": True}  # score 8: high
LOW_RISK_ANSWERS = {"substance_abuse": True}


def a_request(now: datetime, *, district: str = "Lenin") -> Request:
    return Request(
        channel=Channel.MAHALLA_OFFICE,
        district=district,
        petitioner_name="Aizada",
        protected_persons=(
            ProtectedPerson("p1", "Aizada", Sex.FEMALE, date(1994, 4, 2)),
            ProtectedPerson("p2", "Emir", Sex.MALE, date(2019, 8, 15)),
        ),
        respondent=Respondent("Ruslan", Relationship.SPOUSE),
        violence_types=(ViolenceType.PHYSICAL, ViolenceType.PSYCHOLOGICAL),
        incident_at=now - timedelta(hours=5),
        incident_narrative="He struck her in the kitchen.",
        shared_residence=True,
        firearms_access=FirearmsAccess.UNKNOWN,
    )


def terms(now: datetime, **changes: Any) -> Terms:
    fields: dict[str, Any] = {
        "kind": OrderKind.TEMPORARY,
        "conditions": (Condition.NO_CONTACT, Condition.STAY_AWAY_FROM_RESIDENCE),
        "other_conditions": (),
        "protected_person_ids": ("p1", "p2"),
        "inspector_id": INSPECTOR.id,
        "valid_from": now,
    }
    return Terms(**(fields | changes))


def a_visit(at: datetime, **changes: Any) -> Visit:
    fields: dict[str, Any] = {
        "visited_at": at,
        "met_with": ("p1",),
        "outcome": VisitOutcome.PERSON_SAFE,
    }
    return Visit(**(fields | changes))


def request_json(now: datetime, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "mahalla_office",
        "district": "Lenin",
        "petitioner_name": "Aizada",
        "protected_persons": [
            {"person_id": "p1", "name": "Aizada", "sex": "female", "birth_date": "1994-04-02"},
            {"person_id": "p2", "name": "Emir", "sex": "male", "birth_date": "2019-08-15"},
        ],
        "respondent": {"name": "Ruslan", "relationship": "spouse"},
        "violence_types": ["physical", "psychological"],
        "incident_at": (now - timedelta(hours=5)).isoformat(),
        "incident_narrative": "He struck her in the kitchen.",
        "shared_residence": True,
        "firearms_access": "unknown",
    }
    return body | changes


def request_order(now: datetime, **changes: Any) -> RequestOrder:
    """The request of `request_json`, as the command that opens an order."""
    return RequestOrder.model_validate(request_json(now, **changes))


def an_assessment(answers: dict[str, bool] = HIGH_RISK_ANSWERS, **changes: Any) -> AssessRisk:
    return AssessRisk(answers=answers, **changes)


def issue_order(now: datetime, **changes: Any) -> IssueOrder:
    """The command that issues an order on the terms of `terms`."""
    fields: dict[str, Any] = {
        "kind": OrderKind.TEMPORARY,
        "conditions": [Condition.NO_CONTACT, Condition.STAY_AWAY_FROM_RESIDENCE],
        "protected_person_ids": ["p1", "p2"],
        "inspector_id": INSPECTOR.id,
        "valid_from": now,
    }
    return IssueOrder(**(fields | changes))


def a_visit_command(at: datetime, **changes: Any) -> RecordVisit:
    """The command that records the visit of `a_visit`."""
    fields: dict[str, Any] = {
        "visited_at": at,
        "met_with": ["p1"],
        "outcome": VisitOutcome.PERSON_SAFE,
        "proof_code": "4711",
    }
    return RecordVisit(**(fields | changes))
