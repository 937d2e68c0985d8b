"""The staff directory as a table: who each member is, what they cover, where to reach them.

Kept by the notifications projection (projections.notifications), in the same transaction
as the messages it resolves through it, so a message's recipients are the directory as it
stood at that message's event. Holds staff contact details: they leave this table only to
the delivery worker and to admins, never to a log or an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from orders.staff import StaffMember
from projections.database import Row, Transaction, ViewDatabase, iso, parse_iso

ALL_DISTRICTS = "*"
DIRECTORY = "staff directory"  # the key of what a transaction has read of it
COVERING = "staff covering"  # and of who covers which district, in which role

TABLES = (
    "CREATE TABLE IF NOT EXISTS staff ("
    "staff_id TEXT PRIMARY KEY, member_id TEXT NOT NULL, role TEXT NOT NULL, "
    "districts TEXT NOT NULL, email TEXT, phone TEXT, version INTEGER NOT NULL, "
    "enrolled_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS staff_districts ("
    "staff_id TEXT NOT NULL, district TEXT NOT NULL, PRIMARY KEY (district, staff_id))",
    "CREATE UNIQUE INDEX IF NOT EXISTS staff_member ON staff (member_id)",
)


def apply(event: StaffMember.Enrolled | StaffMember.Changed, tx: Transaction) -> None:
    """Change the directory's rows for one enrolment or change."""
    when = iso(event.timestamp)
    if isinstance(event, StaffMember.Enrolled):
        tx.execute(
            "INSERT INTO staff (staff_id, member_id, role, districts, email, phone, version, "
            "enrolled_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.staff_id,
                event.originator_id,
                event.role,
                json.dumps(list(event.districts)),
                event.email,
                event.phone,
                event.originator_version,
                when,
                when,
            ),
        )
        staff_id, key = "?", str(event.staff_id)
    else:
        # A change names the member by its aggregate's id, not by its staff id.
        staff_id, key = "(SELECT staff_id FROM staff WHERE member_id = ?)", str(event.originator_id)
        tx.execute(
            "UPDATE staff SET role = ?, districts = ?, email = ?, phone = ?, version = ?, "
            "updated_at = ? WHERE member_id = ?",
            (
                event.role,
                json.dumps(list(event.districts)),
                event.email,
                event.phone,
                event.originator_version,
                when,
                event.originator_id,
            ),
        )
        tx.execute(f"DELETE FROM staff_districts WHERE staff_id = {staff_id}", (key,))
    for district in event.districts:
        tx.execute(
            f"INSERT INTO staff_districts (staff_id, district) VALUES ({staff_id}, ?) "
            "ON CONFLICT DO NOTHING",
            (key, district),
        )
    tx.memo.pop(DIRECTORY, None)  # what the projection read of the directory has changed
    tx.memo.pop(COVERING, None)


class Staff:
    """Queries over the staff directory."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db

    def get(self, staff_id: str) -> Row | None:
        rows = self.db.query("SELECT * FROM staff WHERE staff_id = ?", (staff_id,))
        return _typed(rows[0]) if rows else None

    def page(self, *, role: str | None, limit: int, offset: int) -> tuple[list[Row], int]:
        """One page of members by id, and how many there are in all."""
        where, params = ("WHERE role = ?", [role]) if role is not None else ("", [])
        total = self.db.query(f"SELECT COUNT(*) AS n FROM staff {where}", params)[0]["n"]
        rows = self.db.query(
            f"SELECT * FROM staff {where} ORDER BY staff_id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_typed(row) for row in rows], int(total)


def covering(tx: Transaction, role: str, district: str) -> list[Row]:
    """The members in `role` who cover `district` (or every district), by id."""
    found: dict[tuple[str, str], list[Row]] = tx.memo.setdefault(COVERING, {})
    if (role, district) not in found:  # worked out once a transaction, like the directory
        covered = {district, ALL_DISTRICTS}
        members = [m.row for m in _directory(tx) if m.role == role and m.districts & covered]
        found[role, district] = members
    return found[role, district]


def in_role(tx: Transaction, role: str) -> list[Row]:
    """Every member in `role`, whatever districts they cover, by id."""
    return [m.row for m in _directory(tx) if m.role == role]


def member(tx: Transaction, staff_id: str) -> Row | None:
    return next((m.row for m in _directory(tx) if m.staff_id == staff_id), None)


@dataclass(frozen=True)
class _Member:
    staff_id: str
    role: str
    districts: frozenset[str]
    email: str | None
    phone: str | None

    @property
    def row(self) -> Row:
        return {"staff_id": self.staff_id, "email": self.email, "phone": self.phone}


def read(tx: Transaction) -> None:
    """Read the directory into `tx`, if it has not read it yet."""
    _directory(tx)


def _directory(tx: Transaction) -> list[_Member]:
    """Every member, by id: read once a transaction, and again only after it changed (a batch
    of alerts goes to a few members, again and again)."""
    if DIRECTORY not in tx.memo:
        tx.execute(
            "SELECT s.staff_id, s.role, s.email, s.phone, d.district FROM staff s "
            "LEFT JOIN staff_districts d ON d.staff_id = s.staff_id ORDER BY s.staff_id"
        )
        members = []
        for staff_id, group in groupby(tx.fetchall(), itemgetter("staff_id")):
            rows = list(group)
            districts = frozenset(r["district"] for r in rows if r["district"] is not None)
            first = rows[0]
            members.append(
                _Member(staff_id, first["role"], districts, first["email"], first["phone"])
            )
        tx.memo[DIRECTORY] = members
    directory: list[_Member] = tx.memo[DIRECTORY]
    return directory


def _typed(row: Row) -> Row:
    row["districts"] = json.loads(row["districts"])
    row["enrolled_at"] = parse_iso(row["enrolled_at"])
    row["updated_at"] = parse_iso(row["updated_at"])
    return row
