"""Writes that may go in another order than they were written, and the order they go in.

A view's writes to one table are mostly keyed on one column: `INSERT INTO t (.., k, ..)
VALUES (.., ?, ..)` puts a row under its key; `UPDATE t SET .. WHERE k = ?` changes only the
rows under its key, and moves none to another key. Two such writes under different keys touch
different rows, so either may go first, provided that

- no write reads other rows of the table (a subquery on it): an INSERT of that kind, or one
  that settles a conflict (ON CONFLICT), is not keyed, nor is an UPDATE that names its table;
- no UPDATE changes a column of a primary key or unique index: then whether two rows collide
  depends only on the rows inserted, in whatever order;
- keys that differ in Python differ in the database: every key of a stretch is text, in a
  column declared TEXT, on a table declared without COLLATE;
- no row refers to another (a table declared with REFERENCES is never reordered; views'
  tables have no triggers).

So a stretch of keyed writes to one table goes in rounds, keeping each key's own order: the
first write under every key, then the second, and so on; within a round, each statement's
writes go together, every key at most once (projections.batches sends such a run of one
UPDATE as one statement of many rows). An UPDATE is left out where the next write under its
key sets every column it sets to a constant and reads none of them: the row ends the same,
and a view's row of an order, moved on by each event of a batch, is written a few times
rather than once an event. Any other write goes where it was written, and parts the
stretches. What is unique in each table comes from the CREATE statements the projections
declare; a table not declared there is never reordered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any

from projections.batches import LITERAL, UPDATE, many_rows, split_top_level

Write = tuple[str, tuple[Any, ...]]
Run = tuple[str, list[tuple[Any, ...]]]

ASSIGNMENT = re.compile(r"\s*(\w+)\s*=", re.S)
IF_NOT = r"(?:IF\s+NOT\s+EXISTS\s+)?"
CREATE_TABLE = re.compile(rf"\s*CREATE\s+TABLE\s+{IF_NOT}(\w+)\s*\((.*)\)", re.I | re.S)
UNIQUE_INDEX = re.compile(
    rf"\s*CREATE\s+UNIQUE\s+INDEX\s+{IF_NOT}\w+\s+ON\s+(\w+)\s*\((.*)\)", re.I | re.S
)
KEY_CONSTRAINT = re.compile(r"\s*(?:PRIMARY\s+KEY|UNIQUE)\s*\((.*)\)", re.I | re.S)
COLUMN = re.compile(r"\s*(\w+)\s+(\w+)(.*)", re.S)
LEFT_OUT = re.compile(r"\b(?:COLLATE|REFERENCES)\b", re.I)
KEY_WORDS = re.compile(r"\b(?:PRIMARY\s+KEY|UNIQUE)\b", re.I)
CONSTANT = re.compile(r"\?|NULL|-?\d+(?:\.\d+)?|'[^']*'", re.I)


@dataclass(frozen=True)
class Table:
    """What reordering needs to know of a declared table."""

    unique: frozenset[str]  # the columns of its primary key and of its unique indexes
    text: frozenset[str]  # the columns declared TEXT


class Schema:
    """The tables the projections declare (by their CREATE statements); a table declared with
    COLLATE or REFERENCES is left out, so its writes are never reordered."""

    def __init__(self, statements: Iterable[str] = ()) -> None:
        unique: dict[str, set[str]] = {}
        text: dict[str, set[str]] = {}
        for sql in statements:
            if (table := CREATE_TABLE.fullmatch(sql)) and not LEFT_OUT.search(sql):
                name = table.group(1).lower()
                unique[name], text[name] = _columns(table.group(2))
            elif index := UNIQUE_INDEX.fullmatch(sql):
                unique.setdefault(index.group(1).lower(), set()).update(_words(index.group(2)))
        self.tables = {name: Table(frozenset(unique[name]), frozenset(text[name])) for name in text}


def _columns(definitions: str) -> tuple[set[str], set[str]]:
    """A table's unique columns, and those declared TEXT."""
    unique, text = set(), set()
    for part in split_top_level(definitions):
        if constraint := KEY_CONSTRAINT.fullmatch(part):
            unique |= _words(constraint.group(1))
        elif column := COLUMN.fullmatch(part):
            name = column.group(1).lower()
            if column.group(2).upper() == "TEXT":
                text.add(name)
            if KEY_WORDS.search(column.group(3)):
                unique.add(name)
    return unique, text


def _words(sql: str) -> set[str]:
    return {word.lower() for word in re.findall(r"\w+", sql)}


@dataclass(frozen=True)
class Keyed:
    """A write to `table` that goes under a key: for each column that can hold the key, the
    index of the parameter giving it (an UPDATE has one such column, an INSERT each column it
    sets to a parameter of its own), and the columns an UPDATE assigns."""

    table: str
    keys: Mapping[str, int]
    assigns: frozenset[str] | None  # None: an INSERT
    constant: frozenset[str] = frozenset()  # the columns an UPDATE sets to a parameter or literal
    reads: frozenset[str] = frozenset()  # the words its assignments' values name

    def supersedes(self, earlier: Keyed) -> bool:
        """Whether this write, next under the key of `earlier` (same table), leaves the
        row as if `earlier` had not gone: it is an UPDATE that sets every column `earlier`
        sets to a constant, and reads none of them."""
        return (
            earlier.assigns is not None
            and earlier.assigns <= self.constant
            and not earlier.assigns & self.reads
        )

    def may_join(self, stretch: Stretch) -> bool:
        """Whether this write may go in rounds with the stretch's writes."""
        if self.table != stretch.table:
            return False
        if self.assigns is None:
            return stretch.column is None or stretch.column in self.keys
        (column,) = self.keys
        return stretch.column == column or (stretch.column is None and column in stretch.common)


@lru_cache(maxsize=1024)
def allowed(sql: str, schema: Schema) -> Keyed | None:
    """How `sql` is keyed, if it writes to a declared table, changes none of its unique
    columns, and keys by columns declared TEXT."""
    how = keyed(sql)
    table = None if how is None else schema.tables.get(how.table)
    if how is None or table is None or (how.assigns and how.assigns & table.unique):
        return None
    keys = {column: at for column, at in how.keys.items() if column in table.text}
    if how.assigns is not None and not keys:
        return None
    return Keyed(how.table, keys, how.assigns)


@lru_cache(maxsize=512)
def keyed(sql: str) -> Keyed | None:
    """How `sql` is keyed, if it is (never if it has a comment: it is not read past one)."""
    if any("?" in literal for literal in LITERAL.findall(sql)) or "--" in sql or "/*" in sql:
        return None
    if update := UPDATE.fullmatch(sql):
        table, assignments, column = update.group(1).lower(), update.group(2), update.group(3)
        parts = split_top_level(assignments)
        assigned = [m for m in (ASSIGNMENT.match(a) for a in parts) if m is not None]
        names = frozenset(m.group(1).lower() for m in assigned)
        if len(names) < len(parts) or column.lower() in names:
            return None
        if re.search(rf"\b{table}\b", assignments, re.I):
            return None  # it reads other rows of its own table
        given = {m.group(1).lower(): m.string[m.end() :].strip() for m in assigned}
        constant = frozenset(name for name, value in given.items() if CONSTANT.fullmatch(value))
        reads = frozenset(_words(LITERAL.sub("", " ".join(given.values()))))
        return Keyed(table, {column.lower(): sql.count("?") - 1}, names, constant, reads)
    values = many_rows(sql)
    if values is None or values.tail.strip():
        return None
    head = re.match(r"\s*INSERT\s+INTO\s+(\w+)\s*\((.*)\)", values.head, re.I | re.S)
    if head is None:
        return None
    columns = [c.strip().lower() for c in head.group(2).split(",")]
    items = split_top_level(values.row.strip()[1:-1])
    if len(items) != len(columns):
        return None
    keys, at = {}, 0
    for column, item in zip(columns, items, strict=True):
        if item.strip() == "?":
            keys[column] = at
        at += item.count("?")
    return Keyed(head.group(1).lower(), keys, None)


@dataclass
class Stretch:
    """Consecutive writes that may go in rounds: all keyed on `table`, by `column` once an
    UPDATE has named it (before that, by any of `common`, the columns every INSERT keys)."""

    table: str | None
    column: str | None = None
    common: frozenset[str] = frozenset()
    writes: list[Write] = field(default_factory=list)

    @classmethod
    def of(cls, write: Write, how: Keyed | None) -> Stretch:
        if how is None:
            return cls(None, writes=[write])
        column = next(iter(how.keys)) if how.assigns is not None else None
        return cls(how.table, column, frozenset(how.keys), [write])

    def continues(self, write: Write) -> bool:
        """Whether an unkeyed write joins this stretch: one of a run of its statement."""
        return self.table is None and self.writes[-1][0] == write[0]

    def add(self, write: Write, how: Keyed) -> None:
        if how.assigns is not None:
            (self.column,) = how.keys
        elif self.column is None:
            self.common &= frozenset(how.keys)
        self.writes.append(write)

    def runs(self) -> list[Run]:
        """The stretch's writes in rounds (in their own order, if not keyed by a column)."""
        if self.column is None:
            return _together(self.writes)
        statements = dict.fromkeys(sql for sql, _ in self.writes)  # in order of first use
        how = {sql: keyed(sql) for sql in statements}
        at = {sql: how[sql].keys[self.column] for sql in statements}  # type: ignore[union-attr]
        last: dict[str, int] = {}  # under each key, the place of its last write so far
        moot: set[int] = set()  # the places of writes a later one supersedes
        for place, (sql, params) in enumerate(self.writes):
            key = params[at[sql]]
            if not isinstance(key, str):
                return _together(self.writes)
            before = last.get(key)
            if before is not None and how[sql].supersedes(how[self.writes[before][0]]):  # type: ignore[union-attr, arg-type]
                moot.add(before)
            last[key] = place
        seen: dict[str, int] = {}
        rounds: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
        for place, (sql, params) in enumerate(self.writes):
            if place in moot:
                continue
            key = params[at[sql]]
            seen[key] = round_ = seen.get(key, -1) + 1
            rounds.setdefault((round_, sql), []).append(params)
        rank = {sql: number for number, sql in enumerate(statements)}
        order = sorted(rounds, key=lambda round_sql: (round_sql[0], rank[round_sql[1]]))
        return [(sql, rounds[round_, sql]) for round_, sql in order]


def _together(writes: list[Write]) -> list[Run]:
    """Consecutive writes of one statement as one run."""
    return [(sql, [params for _, params in run]) for sql, run in groupby(writes, itemgetter(0))]


def plan(writes: Sequence[Write], schema: Schema) -> list[Stretch]:
    """The writes in stretches: each stretch's writes go before the next's; within one, as
    its runs say (in rounds, as described above)."""
    stretches: list[Stretch] = []
    last: Keyed | None = None
    for write in writes:
        how = allowed(write[0], schema)
        if how is not None and how is last:  # the statement before, again: it joins
            stretches[-1].writes.append(write)
        elif stretches and how is not None and how.may_join(stretches[-1]):
            stretches[-1].add(write, how)
        elif how is None and stretches and stretches[-1].continues(write):
            stretches[-1].writes.append(write)
        else:
            stretches.append(Stretch.of(write, how))
        last = how
    return stretches


def by_key(sql: str, rows: Sequence[Sequence[Any]], schema: Schema) -> bool:
    """Whether `rows` of the UPDATE `sql` may go as one statement: a keyed one, under keys
    that all differ (as in one round)."""
    how = allowed(sql, schema)
    if how is None or how.assigns is None:
        return False
    keys = [row[-1] for row in rows]
    return all(isinstance(key, str) for key in keys) and len(set(keys)) == len(keys)
