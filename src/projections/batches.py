"""How the views' writes go to the database together: which statements may wait, and how a run
of one INSERT becomes one statement of many rows.

A run of one `INSERT ... VALUES (...)` goes as statements of many rows each, which both
engines take far faster than one statement a row; any other run goes as one `executemany`
(on PostgreSQL, psycopg pipelines it). Rows go together only where that changes nothing: an
upsert that updates goes a row at a time (PostgreSQL refuses one statement that updates a row
twice), and so does a row that reads the table it is inserted into (one statement sees the
table as it was before any of its rows).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
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
        """The statements inserting `rows`, each with the parameters of each time it runs:
        one of ROWS_AT_ONCE rows run as often as they fill it, then one of the rows left."""
        at_once = max(1, min(ROWS_AT_ONCE, MAX_PARAMETERS // max(1, len(rows[0]))))
        full = len(rows) - len(rows) % at_once
        if full:
            yield self._of(at_once), [_flat(rows[i : i + at_once]) for i in range(0, full, at_once)]
        if full < len(rows):
            yield self._of(len(rows) - full), [_flat(rows[full:])]

    def _of(self, n: int) -> str:
        return self.head + ", ".join([self.row] * n) + self.tail


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


def _closing(sql: str, start: int) -> int | None:
    """Just past the parenthesis that closes the one at `start`, quotes skipped."""
    depth, quoted = 0, False
    for at in range(start, len(sql)):
        char = sql[at]
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return at + 1
    return None
