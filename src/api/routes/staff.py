"""The staff directory, kept by admins: who is told about alerts, for which districts, where.

Every enrolment and change is an event (orders.staff), so who could have been told is on the
record. Entries hold contact details: they are answered to admins only, and never appear in
an error or a log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api import access
from api.deps import MinPosition, PartsDep, UserDep, seen
from api.schemas.errors import responses
from api.schemas.notifications import StaffOut
from api.schemas.reads import Page, page
from orders.commands.staff import EnrolStaff, StaffEntry, StaffId, StaffRole
from orders.directory import Directory, Saved
from orders.staff import StaffMember
from orders.values import Role

ADMIN_ONLY = access.rule({Role.ADMIN})
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many items.")]
StaffPath = Annotated[StaffId, Path(description="The member's account id.")]

router = APIRouter(prefix="/staff", tags=["staff"])


def _answer(saved: Saved, response: Response) -> StaffOut:
    if saved.position is not None:
        response.headers["X-Log-Position"] = str(saved.position)
    response.headers["ETag"] = f'"{saved.member.version}"'
    return _out(saved.member)


def _out(member: StaffMember) -> StaffOut:
    return StaffOut(
        staff_id=member.staff_id,
        role=member.role,
        districts=list(member.districts),
        email=member.email,
        phone=member.phone,
        version=member.version,
        enrolled_at=member.created_on,
        updated_at=member.modified_on,
    )


@router.post(
    "",
    operation_id="enrol_staff",
    status_code=201,
    responses=responses(401, 403, 409, 413, 422),
    openapi_extra=ADMIN_ONLY,
)
def enrol_staff(entry: EnrolStaff, parts: PartsDep, user: UserDep, response: Response) -> StaffOut:
    """Enrol a member of staff in the directory of who is told about alerts."""
    saved = Directory(parts.orders).enrol(entry, by=user.actor)
    parts.queries.views.wake()
    return _answer(saved, response)


@router.put(
    "/{staff_id}",
    operation_id="change_staff",
    responses=responses(401, 403, 404, 409, 413, 422),
    openapi_extra=ADMIN_ONLY,
)
def change_staff(
    staff_id: StaffPath, entry: StaffEntry, parts: PartsDep, user: UserDep, response: Response
) -> StaffOut:
    """Change a member of staff's role, districts or contact (the whole entry is replaced)."""
    saved = Directory(parts.orders).change(staff_id, entry, by=user.actor)
    parts.queries.views.wake()
    return _answer(saved, response)


@router.get(
    "/{staff_id}",
    operation_id="get_staff_member",
    responses=responses(401, 403, 404, 422),
    openapi_extra=ADMIN_ONLY,
)
def get_staff_member(
    staff_id: StaffPath, parts: PartsDep, user: UserDep, response: Response
) -> StaffOut:
    """One member of staff's entry, from its own events."""
    member = Directory(parts.orders).get(staff_id)
    response.headers["ETag"] = f'"{member.version}"'
    return _out(member)


@router.get(
    "",
    operation_id="list_staff",
    responses=responses(401, 403, 422, 503),
    openapi_extra=ADMIN_ONLY,
)
def list_staff(
    parts: PartsDep,
    user: UserDep,
    x_min_position: MinPosition = None,
    role: StaffRole | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[StaffOut]:
    """The staff directory, by id, from its read model (optionally one role's members)."""
    seen(parts, "notifications", x_min_position)
    rows, total = parts.queries.staff.page(role=role, limit=limit, offset=offset)
    return page(StaffOut, rows, limit=limit, offset=offset, total=total)
