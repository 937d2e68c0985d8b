"""Tables are created by one process at a time, so any number of processes may start at once.

Every statement that creates a table, index, type, function or trigger says IF NOT EXISTS or
OR REPLACE, and still two processes running them at once fail:

- PostgreSQL: two `CREATE TABLE IF NOT EXISTS` of one table both find it missing, and the
  second fails on the catalogue's key ("duplicate key value violates unique constraint
  pg_type_typname_nsp_index"); two `CREATE OR REPLACE` of one trigger, or two GRANTs, fail
  with "tuple concurrently updated"; or they deadlock. Creation runs under one advisory lock.
- SQLite: a deferred transaction that reads the schema (the table is there) and then writes
  (the next one is not) cannot take the write lock once another process has written since
  it read: "database is locked" at once, whatever the busy timeout. Creation runs in a
  transaction begun IMMEDIATE, which takes the write lock (waiting the busy timeout) before
  it reads anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore

SCHEMA_LOCK = 0x70726F74656374  # PostgreSQL advisory lock key: "protect", one per database
LOCK = "SELECT pg_advisory_lock(%s)"
UNLOCK = "SELECT pg_advisory_unlock(%s)"


@contextmanager
def creating_tables(datastore: PostgresDatastore) -> Iterator[None]:
    """While the block runs, no other process holds the schema lock of this database."""
    with datastore.get_connection() as holder:  # autocommit: the lock is the session's
        holder.execute(LOCK, (SCHEMA_LOCK,))
        try:
            yield
        finally:
            holder.execute(UNLOCK, (SCHEMA_LOCK,))


@contextmanager
def immediate_transaction(datastore: SQLiteDatastore) -> Iterator[SQLiteCursor]:
    """A SQLite transaction that holds the write lock from its start; commits if the block
    ends without an exception."""
    with datastore.get_connection(commit=True) as connection:
        cursor = connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
