"""How the views' writes go to the database together: which statements may wait, and how a run
of one INSERT, or of one UPDATE by key, becomes one statement of many rows.

A run of one `INSERT ... VALUES (...)` goes as statements of many rows each, which both
engines take far faster than one statement a row; on PostgreSQL so does a run of one
`UPDATE t SET ... WHERE k = ?` whose keys all differ (as projections.keyed plans them), as
`UPDATE t SET ... FROM (VALUES (...), ...) WHERE t.k = ...`. Any other run goes as one
`executemany` (on PostgreSQL, psycopg pipelines it). Rows go together only where that changes
nothing: an upsert that updates goes a row at a time (PostgreSQL refuses one statement that
updates a row twice), and so does a row that reads the table it is inserted into (one
statement sees the table as it was before any of its rows).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ROWS_AT_ONCE = 20
"""Rows in one statement: enough to cost a few microseconds a row on either engine, few enough
that psycopg reads the statement's text once and PostgreSQL plans it once for a whole run."""
MAX_PARAMETERS = 999
"""Parameters in one statement at most: SQLite before 3.32 binds no more."""

WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
INSERT_VALUES = re.compile(r"\s*INSERT\s+INTO\s+(\w+)\s*\([^()]*\)\s*VALUES\s*(?=\()", re.I)
NOTHING_ON_CONFLICT = re.compile(r"\s*(ON\s+CONFLICT\b[^?%]*\bDO\s+NOTHING\s*)?", re.I)
LITERAL = re.compile(r"'[^']*'")
UPDATE = re.compile(r"\s*UPDATE\s+(\w+)\s+SET\s+(.+?)\s+WHERE\s+(\w+)\s*=\s*\?\s*", re.I | re.S)


@lru_cache(maxsize=512)
def waits(sql: str) -> bool:
    """Whether a statement may wait for others: a write that returns no rows."""
    return bool(WRITE.match(sql)) and not RETURNING.search(sql)


@dataclass(frozen=True)
class Values:
    """An INSERT cut where more rows can go: `head` (...) `tail`, `row` the one it has."""

    head: str
    row: str
    tail: str

    def statements(self, rows: Sequence[Sequence[Any]]) -> Iterator[tuple[str, list[list[Any]]]]:
        """The statements inserting `rows`, each with the parameters of each time it runs."""
        return _chunks(rows, self._of)

    def _of(self, n: int) -> str:
        return self.head + ", ".join([self.row] * n) + self.tail


def _chunks(
    rows: Sequence[Sequence[Any]], statement: Callable[[int], str]
) -> Iterator[tuple[str, list[list[Any]]]]:
    """One statement of ROWS_AT_ONCE rows, run as often as they fill it, then one of the rows
    left; each with the parameters of each time it runs."""
    at_once = max(1, min(ROWS_AT_ONCE, MAX_PARAMETERS // max(1, len(rows[0]))))
    full = len(rows) - len(rows) % at_once
    if full:
        yield statement(at_once), [_flat(rows[i : i + at_once]) for i in range(0, full, at_once)]
    if full < len(rows):
        yield statement(len(rows) - full), [_flat(rows[full:])]


@dataclass(frozen=True)
class Updates:
    """An UPDATE of the rows under one key (`table`.`column` = its last parameter), cut at
    its parameters, to be run for many keys at once on PostgreSQL."""

    table: str
    column: str
    assignments: tuple[str, ...]  # the SET clause, between its parameters

    def statements(
        self, rows: Sequence[Sequence[Any]]
    ) -> Iterator[tuple[str, list[list[Any]]]] | None:
        """The statements updating under each row's key (all different), as `statements` of
        Values; None if some parameter's values are of no one SQL type here."""
        types = [_sql_type([row[i] for row in rows]) for i in range(len(rows[0]))]
        if None in types:
            return None
        names = [f"_v.p{i}" if t != "NULL" else "NULL" for i, t in enumerate(types)]
        parameters = zip(self.assignments, names[:-1], strict=False)  # the last: the key
        assigned = "".join(a + n for a, n in parameters) + self.assignments[-1]
        row = "(" + ", ".join(f"?::{t if t != 'NULL' else 'text'}" for t in types) + ")"
        columns = ", ".join(f"p{i}" for i in range(len(types)))
        key = f"_v.p{len(types) - 1}"

        def of(n: int) -> str:
            values = ", ".join([row] * n)
            return (
                f"UPDATE {self.table} SET {assigned} FROM (VALUES {values}) AS _v ({columns}) "
                f"WHERE {self.table}.{self.column} = {key}"
            )

        return _chunks(rows, of)


def _sql_type(values: list[Any]) -> str | None:
    """The SQL type of one parameter's values, as psycopg sends each of them; NULL if all are
    None; None if they are of no one type here."""
    kinds = {KINDS.get(type(v)) or _kind(v) for v in values if v is not None}
    if len(kinds) != 1:
        return "NULL" if not kinds else None
    kind = kinds.pop()
    if kind == "bigint" and not all(-(2**63) <= v < 2**63 for v in values if v is not None):
        return None
    return kind


KINDS = {str: "text", bool: "boolean", int: "bigint", float: "float8"}


def _kind(value: Any) -> str | None:
    """The SQL type of a value of a class derived from one of KINDS (an enumeration's)."""
    return next((name for base, name in KINDS.items() if isinstance(value, base)), None)


@lru_cache(maxsize=512)
def many_updates(sql: str) -> Updates | None:
    """The UPDATE by key cut where its parameters go; None if it is of another shape."""
    update = UPDATE.fullmatch(sql)
    if update is None or any("?" in literal for literal in LITERAL.findall(sql)):
        return None
    return Updates(update.group(1), update.group(3), tuple(update.group(2).split("?")))


def _flat(rows: Sequence[Sequence[Any]]) -> list[Any]:
    return [value for row in rows for value in row]


@lru_cache(maxsize=512)
def many_rows(sql: str) -> Values | None:
    """The INSERT cut where more rows can go; None if its rows must go one at a time."""
    head = INSERT_VALUES.match(sql)
    if head is None:
        return None
    end = _closing(sql, head.end())
    if end is None:
        return None
    row, tail = sql[head.end() : end], sql[end:]
    if not NOTHING_ON_CONFLICT.fullmatch(tail):
        return None
    if re.search(rf"\b{head.group(1)}\b", row, re.IGNORECASE):
        return None
    return Values(sql[: head.end()], row, tail)


def split_top_level(sql: str) -> list[str]:
    """`sql` cut at each comma outside parentheses and quotes."""
    parts, start = [], 0
    for at, char, depth in _unquoted(sql, 0):
        if char == "," and depth == 0:
            parts.append(sql[start:at])
            start = at + 1
    parts.append(sql[start:])
    return parts


def _closing(sql: str, start: int) -> int | None:
    """Just past the parenthesis that closes the one at `start`, quotes skipped."""
    for at, char, depth in _unquoted(sql, start):
        if char == ")" and depth == 0:
            return at + 1
    return None


def _unquoted(sql: str, start: int) -> Iterator[tuple[int, str, int]]:
    """Each character of `sql` from `start` outside quotes, with the depth of parentheses
    it leaves (after an opening one, before a closing one's own level is left)."""
    depth, quoted = 0, False
    for at in range(start, len(sql)):
        char = sql[at]
        if char == "'":
            quoted = not quoted
            continue
        if quoted:
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        yield at, char, depth
