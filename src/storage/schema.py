"""The tables kept beside the events, the triggers that make the store append-only, the SQL.

- Command keys: a command sent with an Idempotency-Key stores its key, a fingerprint of the
  request and what it produced (order, version, new breach or escalation id) atomically with
  its events, so a retry gets the first result back and two concurrent attempts cannot both
  store (the second one's key row conflicts, and its events roll back with it).
- Seals: every event's chained digest (orders.ledger) and a keyed seal of it. An event written
  around the application has no valid seal; one changed, removed or reordered breaks a chain.
- Immutability: triggers refuse UPDATE and DELETE of events, seals, checkpoints, refusals and
  cosignatures,
  and (PostgreSQL, per statement) TRUNCATE. SQLite has no TRUNCATE: its unqualified DELETE is
  refused row by row by the same triggers (a table with triggers never takes SQLite's truncate
  shortcut).
- Presence secrets: each proof-of-presence secret, encrypted by the application (decision
  019), by proof and order; kept for good, so a rotated secret still checks older visits.
- Checkpoint heads: with each checkpoint, the orders whose latest event changed since the one
  before, with their place in the signed orders tree (decision 016): authenticated by its
  root, they name what was removed even after the log was refilled.
- Checkpoint refusals: each time a checkpoint was refused because the log did not verify,
  or a witness refused it or contradicted the log, when and why, kept for good.
- Checkpoint cosignatures: a witness's countersignature of a checkpoint (decision 017), by
  the checkpoint's size and the witness's key, kept for good.

Statements are portable: `?` placeholders (PostgreSQL's recorder makes them `%s`); {events}
names the events table, {position} its id column, and {tx}, {order}, {after} and {final} say
each engine's log order (storage.order): {after} takes a place's two parts, (tx, position).
"""

from __future__ import annotations

TABLES = (
    "CREATE TABLE IF NOT EXISTS command_keys (actor_id TEXT NOT NULL, key TEXT NOT NULL, "
    "fingerprint TEXT NOT NULL, order_id TEXT NOT NULL, version BIGINT NOT NULL, "
    "ref TEXT NOT NULL, PRIMARY KEY (actor_id, key))",
    "CREATE TABLE IF NOT EXISTS event_seals (originator_id TEXT NOT NULL, "
    "version BIGINT NOT NULL, digest TEXT NOT NULL, seal TEXT NOT NULL, "
    "PRIMARY KEY (originator_id, version))",
    "CREATE TABLE IF NOT EXISTS checkpoints (size BIGINT PRIMARY KEY, root TEXT NOT NULL, "
    "signed_at TEXT NOT NULL, signature TEXT NOT NULL, orders_root TEXT, cursor TEXT)",
    "CREATE TABLE IF NOT EXISTS checkpoint_heads (size BIGINT NOT NULL, order_id TEXT NOT NULL, "
    "place BIGINT NOT NULL, version BIGINT NOT NULL, digest TEXT NOT NULL, "
    "PRIMARY KEY (size, order_id))",
    "CREATE TABLE IF NOT EXISTS checkpoint_refusals (refused_at TEXT NOT NULL, "
    "reason TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS presence_secrets (proof_id TEXT PRIMARY KEY, "
    "order_id TEXT NOT NULL, sealed TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS presence_secrets_order ON presence_secrets (order_id)",
    "CREATE TABLE IF NOT EXISTS checkpoint_cosignatures (size BIGINT NOT NULL, "
    "witness_key TEXT NOT NULL, cosigned_at TEXT NOT NULL, signature TEXT NOT NULL, "
    "PRIMARY KEY (size, witness_key))",
)


def postgres_events_table(table: str, id_type: str) -> str:
    """The library's events table, with the transaction that wrote each event (its xid):
    the log's order is by transaction, then id (storage.order). `{table}` is left to fill."""
    return (
        "CREATE TABLE IF NOT EXISTS {table} ("
        f"originator_id {id_type} NOT NULL, originator_version bigint NOT NULL, "
        "topic text, state bytea, notification_id bigserial, "
        "tx bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint), "
        "PRIMARY KEY (originator_id, originator_version)) "
        "WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000, "
        "autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000, "
        "autovacuum_analyze_scale_factor = 0.01)"
    )


Shape = tuple[int, int, int, int, int]  # events, seals, keys, snapshots, links: 0, 1 or many

_APPEND = (
    ("events", "INSERT INTO {events} (originator_id, originator_version, topic, state) "),
    ("seals", "INSERT INTO event_seals "),
    ("keys", "INSERT INTO command_keys "),
    ("snapshots", "INSERT INTO {snapshots} (originator_id, originator_version, topic, state) "),
)
_COLUMNS = {  # the type of each column, as arrays
    "events": ("{id}", "bigint", "text", "bytea"),
    "seals": ("text", "bigint", "text", "text"),
    "keys": ("text", "text", "text", "text", "bigint", "text"),
    "snapshots": ("{id}", "bigint", "text", "bytea"),
    "links": ("text", "bigint", "text"),
}
_TAILS = {"events": " RETURNING notification_id", "snapshots": " ON CONFLICT DO NOTHING"}
_HELD = " WHERE (SELECT held FROM links)"


def postgres_append(shape: Shape) -> str:
    """Events, their seals, the command's key and snapshots in one statement (one round trip,
    one transaction), each part left out when it has no rows, given as values for one row
    and as one array a column for many, sent in binary (psycopg's text arrays, and arrays of
    a row type, cost more to make than the insert). {events}, {snapshots} and {id} (the
    events' id type) are left to fill; the new events' ids come back in order.

    With links (storage.sealing), nothing is written unless every one holds: the store's
    seal of each event chained on is the one given. Their count comes first, then each."""
    parts = []
    if shape[4]:
        if shape[4] == 1:
            given = "(%s, %s, %s)"
        else:
            given = "(SELECT * FROM unnest(%b::text[], %b::bigint[], %b::text[]))"
        parts.append(
            "links AS (SELECT count(*) = %s AS held FROM event_seals "
            f"WHERE (originator_id, version, digest) {'=' if shape[4] == 1 else 'IN'} {given})"
        )
    held = _HELD if shape[4] else ""
    for (name, insert), count in zip(_APPEND, shape, strict=False):
        columns = _COLUMNS[name]
        if not count:
            continue
        if count == 1:
            rows = "SELECT " + ", ".join("%s" for _ in columns) + held
        else:
            rows = "SELECT * FROM unnest(" + ", ".join(f"%b::{c}[]" for c in columns) + ")" + held
        parts.append(f"{name} AS ({insert}{rows}{_TAILS.get(name, '')})")
    if not shape[0]:  # a command that decided nothing new, its key kept all the same
        return "WITH " + ", ".join(parts) + " SELECT NULL::bigint AS notification_id WHERE false"
    return (
        "WITH " + ", ".join(parts) + " SELECT notification_id FROM events ORDER BY notification_id"
    )


def postgres_log_order(table: str) -> tuple[str, ...]:
    return (f"CREATE INDEX IF NOT EXISTS {table}_log_order ON {table} (tx, notification_id)",)


def _immutable(events_table: str) -> tuple[str, ...]:
    return (
        events_table,
        "event_seals",
        "checkpoints",
        "checkpoint_heads",
        "checkpoint_refusals",
        "checkpoint_cosignatures",
        "presence_secrets",
    )


def sqlite_triggers(events_table: str) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} are immutable: {verb} refused'); END"
        for table in _immutable(events_table)
        for verb in ("update", "delete")
    )


def postgres_triggers(events_table: str) -> tuple[str, ...]:
    return (
        "CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% are immutable: % refused', TG_TABLE_NAME, TG_OP; END $$",
        *(
            f"CREATE OR REPLACE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
            for table in _immutable(events_table)
        ),
        *(
            f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()"
            for table in _immutable(events_table)
        ),
    )


INSERT_KEY = "INSERT INTO command_keys VALUES (?, ?, ?, ?, ?, ?)"
INSERT_PRESENCE_SECRET = "INSERT INTO presence_secrets VALUES (?, ?, ?)"
SELECT_PRESENCE_SECRETS = "SELECT proof_id, sealed FROM presence_secrets WHERE order_id = ?"
SELECT_KEY = "SELECT * FROM command_keys WHERE actor_id = ? AND key = ?"
INSERT_SEALS = "INSERT INTO event_seals VALUES {rows}"
INSERT_SNAPSHOT = (
    "INSERT INTO {snapshots} (originator_id, originator_version, topic, state) "
    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
COUNT_LINKS_HELD = (
    "SELECT count(*) AS held FROM event_seals WHERE (originator_id, version, digest) IN "
    "(VALUES {links})"
)
SELECT_DIGESTS = (
    "SELECT originator_id, digest FROM event_seals WHERE (originator_id, version) IN "
    "(VALUES {pairs})"
)
SELECT_SEALS = "SELECT originator_id, version, digest, seal FROM event_seals"
SELECT_LOG = (
    "SELECT originator_id, originator_version, topic FROM {events} WHERE {final} ORDER BY {order}"
)
SELECT_AFTER = (
    "SELECT {tx} AS tx, {position} AS notification_id, originator_id, originator_version, "
    "topic, state FROM {events} WHERE {after} AND {final} ORDER BY {order} LIMIT ?"
)
SELECT_TX_OF = "SELECT {tx} AS tx FROM {events} WHERE {position} = ?"
COUNT_AFTER = "SELECT COUNT(*) AS behind FROM {events} WHERE {after}"
SELECT_SEALS_OF = "SELECT * FROM event_seals WHERE originator_id IN ({orders})"
SELECT_CURSOR = "SELECT cursor FROM checkpoints WHERE size = ?"
SELECT_ENTRY_AT = (
    "SELECT originator_id, originator_version, topic FROM {events} WHERE {position} = ?"
)
SELECT_LOG_EVENTS = (
    "SELECT {tx} AS tx, {position} AS position, originator_id, originator_version, topic, "
    "state FROM {events} WHERE {after} AND {final} ORDER BY {order}"
)
INSERT_HEAD = "INSERT INTO checkpoint_heads VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
SELECT_HEADS = (
    "SELECT h.* FROM checkpoint_heads h JOIN checkpoints c ON c.size = h.size "
    "WHERE h.size <= ? ORDER BY h.size"
)
INSERT_CHECKPOINT = "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
INSERT_REFUSAL = "INSERT INTO checkpoint_refusals VALUES (?, ?)"
SELECT_REFUSALS = "SELECT refused_at, reason FROM checkpoint_refusals ORDER BY refused_at"
INSERT_COSIGNATURE = (
    "INSERT INTO checkpoint_cosignatures VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
SELECT_COSIGNATURES = (
    "SELECT * FROM checkpoint_cosignatures WHERE size = ? ORDER BY cosigned_at, witness_key"
)
SELECT_CHECKPOINTS = "SELECT * FROM checkpoints ORDER BY size"
SELECT_LATEST_CHECKPOINT = "SELECT * FROM checkpoints ORDER BY size DESC LIMIT 1"
POSTGRES_WRITABLE = (
    "SELECT COALESCE(has_table_privilege(to_regclass(?), 'INSERT'), false) AS writable"
)
SQLITE_HAS_TABLE = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
SELECT_DATABASE_TIME = "SELECT clock_timestamp() AS now"  # PostgreSQL's; SQLite has none
