"""Every command over HTTP, derived from its declaration in orders.commands.

Each command becomes `POST /orders` (opening one) or `POST /orders/{order_id}<path>`, named
for the command (its OpenAPI operation id), summarised by its purpose, admitted to the roles
it declares. It answers 201 with the order's new state, its version as the ETag and the log
position its events reached as X-Log-Position (a later read may ask to see that position).
"""

from __future__ import annotations

import inspect
import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Path, Request, Response
from pydantic import BaseModel, create_model
from starlette.concurrency import run_in_threadpool

from api import access
from api.deps import OptionsDep, PartsDep, UserDep
from api.schemas.errors import responses
from api.schemas.orders import OrderOut
from orders.application import Outcome
from orders.commands import OFFERED, Command, OpeningCommand
from orders.inputs import Input
from orders.policy import Policy
from orders.values import Role


def operation_id(command: type[Command] | type[OpeningCommand]) -> str:
    """The command's name in snake case: RecordVisit -> record_visit."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", command.__name__).lower()


def body_model(command: type[Command] | type[OpeningCommand], policy: Policy) -> type[BaseModel]:
    """What the caller sends: the command's fields but those in its path; the risk questions
    of the policy in force enumerated as fields of their own."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name not in command.path_fields()
    }
    if "answers" in fields:
        optional: Any = (bool | None, None)
        questions: dict[str, Any] = dict.fromkeys(policy.risk_instrument.questions, optional)
        answers = create_model("RiskAnswers", __base__=Input, **questions)
        answers.__doc__ = f"Answers to the questions of {policy.risk_instrument.name}."
        fields["answers"] = (answers, ...)
    model: type[BaseModel] = create_model(
        f"{command.__name__}Body", __base__=Input, __doc__=command.purpose(), **fields
    )
    return model


def response_model(command: type[Command] | type[OpeningCommand]) -> type[BaseModel]:
    if command.returns is None:
        return OrderOut
    created: dict[str, Any] = {command.returns: (UUID, ...), "order": (OrderOut, ...)}
    model: type[BaseModel] = create_model(
        f"{command.__name__}Out",
        __doc__=f"The new {command.returns} and the order's state.",
        **created,
    )
    return model


def _answer(outcome: Outcome, response: Response, returns: str | None) -> Any:
    order = outcome.order
    response.headers["ETag"] = f'"{order.version}"'
    if outcome.position is not None:
        response.headers["X-Log-Position"] = str(outcome.position)
    state = OrderOut.of(order)
    return state if returns is None else {returns: outcome.ref, "order": state}


def _route(command: type[Command] | type[OpeningCommand], policy: Policy) -> Any:
    body = body_model(command, policy)
    ids = command.path_fields()
    opening = issubclass(command, OpeningCommand)

    async def endpoint(
        parts: PartsDep,
        user: UserDep,
        options: OptionsDep,
        request: Request,
        response: Response,
        **given: Any,
    ) -> Any:
        sent = given.pop("body", None)
        data = {} if sent is None else sent.model_dump(exclude_none=True)  # unanswered: left out
        order_id = given.pop("order_id", None)

        def decide() -> Outcome:  # on a worker thread: it reads and writes the store
            cmd = command.model_validate(data | given)
            if isinstance(cmd, OpeningCommand):
                access.check_district(user, getattr(cmd, "district", ""))
            outcome = parts.orders.handle(
                cmd,
                order_id,
                by=user.actor,
                key=options.key,
                expected_version=None if opening else options.expected_version,
                loaded=getattr(request.state, "checked_order", None),  # its scope checked on it
            )
            parts.queries.views.wake()  # the follower, if it runs here, need not wait its turn
            return outcome

        return _answer(await run_in_threadpool(decide), response, command.returns)

    parameters = list(inspect.signature(endpoint).parameters.values())[:-1]
    if not opening:
        parameters.append(_param("order_id", Annotated[UUID, Path()]))
    parameters += [_param(name, Annotated[UUID, Path()]) for name in ids]
    if body.model_fields:
        parameters.append(_param("body", Annotated[body, Body()]))  # type: ignore[valid-type,unused-ignore]
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = operation_id(command)
    endpoint.__doc__ = command.purpose()
    return endpoint


def _param(name: str, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)


def router(policy: Policy) -> APIRouter:
    """A route for every command offered over HTTP."""
    routes = APIRouter(prefix="/orders")
    for command in OFFERED:
        opening = issubclass(command, OpeningCommand)
        errors = (401, 403, 413, 422) if opening else (401, 403, 404, 409, 412, 413, 422)
        routes.add_api_route(
            (command.path or "") if opening else "/{order_id}" + (command.path or ""),
            _route(command, policy),
            methods=["POST"],
            status_code=201,
            name=operation_id(command),
            operation_id=operation_id(command),
            summary=command.purpose(),
            response_model=response_model(command),
            responses=responses(*errors),
            tags=["orders" if opening else "order commands"],
            openapi_extra=access.rule(command.may - {Role.SYSTEM}),
        )
    return routes
