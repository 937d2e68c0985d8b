"""Commands on an existing order: each answers 201 with the order's new state."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from api.deps import OptionsDep, ServiceDep, UserDep
from api.refresh import refreshed
from api.schemas import (
    ERRORS,
    BreachIn,
    BreachResponseIn,
    CreatedBreachOut,
    CreatedEscalationOut,
    DeathIn,
    EscalationIn,
    ExtensionIn,
    IssueIn,
    ModificationIn,
    OrderOut,
    ReviewIn,
    RevocationIn,
    RiskAssessmentIn,
    ServiceIn,
    VisitIn,
)

router = APIRouter(prefix="/orders/{order_id}", tags=["order commands"], responses=ERRORS)


@router.post("/risk-assessments", status_code=201)
def assess_risk(
    order_id: UUID,
    body: RiskAssessmentIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Assess or reassess the risk; the final level may raise the computed one, with a reason."""
    order = service.orders.assess_risk(
        order_id,
        body.answers,
        final_level=body.final_level,
        reason=body.reason,
        by=user.actor,
        **options,
    )
    return refreshed(service, response, order)


@router.post("/issue", status_code=201)
def issue(
    order_id: UUID,
    body: IssueIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Issue the order; the check-in cadence is copied from the policy in force."""
    return refreshed(
        service,
        response,
        service.orders.issue(order_id, body.to_domain(), by=user.actor, **options),
    )


@router.post("/service", status_code=201)
def serve(
    order_id: UUID,
    body: ServiceIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Record that the respondent was notified of the order."""
    order = service.orders.serve(
        order_id,
        served_at=body.served_at,
        method=body.method,
        notes=body.notes,
        by=user.actor,
        **options,
    )
    return refreshed(service, response, order)


@router.post("/visits", status_code=201)
def record_visit(
    order_id: UUID,
    body: VisitIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Record an inspection visit; it counts for the check-in window open when it is recorded."""
    order = service.orders.record_visit(order_id, body.to_domain(), by=user.actor, **options)
    return refreshed(service, response, order)


@router.post("/breaches", status_code=201)
def report_breach(
    order_id: UUID,
    body: BreachIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> CreatedBreachOut:
    """Report a breach; one before service is recorded but marked not enforceable."""
    order, breach_id = service.orders.report_breach(
        order_id,
        occurred_at=body.occurred_at,
        description=body.description,
        by=user.actor,
        **options,
    )
    return CreatedBreachOut(breach_id=breach_id, order=refreshed(service, response, order))


@router.post("/breaches/{breach_id}/responses", status_code=201)
def respond_to_breach(
    order_id: UUID,
    breach_id: str,
    body: BreachResponseIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Record the police response to a breach (warning, protocol, detention, court referral)."""
    order = service.orders.respond_to_breach(
        order_id,
        breach_id,
        response=body.response,
        responded_at=body.responded_at,
        notes=body.notes,
        by=user.actor,
        **options,
    )
    return refreshed(service, response, order)


@router.post("/escalations", status_code=201)
def escalate(
    order_id: UUID,
    body: EscalationIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> CreatedEscalationOut:
    """Escalate the order to a supervisor, a prosecutor or a court."""
    order, escalation_id = service.orders.escalate(
        order_id, target=body.target, reason=body.reason, by=user.actor, **options
    )
    return CreatedEscalationOut(
        escalation_id=escalation_id, order=refreshed(service, response, order)
    )


@router.post("/escalations/{escalation_id}/acknowledgement", status_code=201)
def acknowledge_escalation(
    order_id: UUID,
    escalation_id: str,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Acknowledge an escalation: it was received and is being acted on."""
    order = service.orders.acknowledge_escalation(order_id, escalation_id, by=user.actor, **options)
    return refreshed(service, response, order)


@router.post("/extension", status_code=201)
def extend(
    order_id: UUID,
    body: ExtensionIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Extend the order's validity, up to the policy's maximum for its kind."""
    order = service.orders.extend(
        order_id, valid_until=body.valid_until, reason=body.reason, by=user.actor, **options
    )
    return refreshed(service, response, order)


@router.post("/modification", status_code=201)
def modify(
    order_id: UUID,
    body: ModificationIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Change the conditions or the protected persons the order covers."""
    order = service.orders.modify(
        order_id,
        conditions=tuple(dict.fromkeys(body.conditions)),
        other_conditions=tuple(body.other_conditions),
        protected_person_ids=tuple(dict.fromkeys(body.protected_person_ids)),
        reason=body.reason,
        by=user.actor,
        **options,
    )
    return refreshed(service, response, order)


@router.post("/revocation", status_code=201)
def revoke(
    order_id: UUID,
    body: RevocationIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """End the order before its time, with a reason."""
    return refreshed(
        service,
        response,
        service.orders.revoke(order_id, reason=body.reason, by=user.actor, **options),
    )


@router.post("/deaths", status_code=201)
def report_death(
    order_id: UUID,
    body: DeathIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Record that a protected person has died; later reports claiming earlier times show."""
    order = service.orders.report_death(
        order_id, body.person_id, died_at=body.died_at, by=user.actor, **options
    )
    return refreshed(service, response, order)


@router.post("/findings/{finding_id}/review", status_code=201)
def review_finding(
    order_id: UUID,
    finding_id: str,
    body: ReviewIn,
    service: ServiceDep,
    user: UserDep,
    options: OptionsDep,
    response: Response,
) -> OrderOut:
    """Confirm or dismiss a detector's finding, with a reason."""
    order = service.orders.review_finding(
        order_id, finding_id, decision=body.decision, reason=body.reason, by=user.actor, **options
    )
    return refreshed(service, response, order)
