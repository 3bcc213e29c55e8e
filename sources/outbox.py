"""The SQL of a source's transactional outbox table, `opsconsole_outbox`, per backend.

A service inserts a row in the same transaction as its own write; the relay
(sources.services.relay) sees it only once that transaction committed, claims it, enqueues
it into OpsConsole's outbox and deletes it. Ids are never reused (PostgreSQL bigserial,
SQLite AUTOINCREMENT), so `<source>:<id>` identifies a row for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

TABLE = "opsconsole_outbox"

POSTGRESQL_INSTALL = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    channel text NOT NULL,
    subject text NOT NULL DEFAULT '',
    body text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    idempotency_key text,
    error text
)""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_pending ON {TABLE} (id) WHERE error IS NULL",
    # Wakes the relay's listener (sources.services.listener) the moment an insert commits:
    # PostgreSQL delivers a NOTIFY at commit only, never for a rolled-back transaction, and
    # folds a transaction's identical notifications into one.
    f"""CREATE OR REPLACE FUNCTION {TABLE}_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{TABLE}', '');
    RETURN NULL;
END
$$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_notify ON {TABLE}",
    f"CREATE TRIGGER {TABLE}_notify AFTER INSERT ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_notify()",
]
NOTIFY_CHANNEL = TABLE
SQLITE_INSTALL = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    channel TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    payload JSON NOT NULL DEFAULT '{{}}',
    idempotency_key TEXT,
    error TEXT
)""",
]

INSERT_EXAMPLE = {
    "postgresql": f"INSERT INTO {TABLE} (channel, subject, body, payload) VALUES ($1, $2, $3, $4::jsonb);",
    "sqlite": f"INSERT INTO {TABLE} (channel, subject, body, payload) VALUES (?, ?, ?, ?);",
}

_COLUMNS = "id, created_at, channel, subject, body, payload, idempotency_key, error"
_CLAIM = {
    # Committed rows only (READ COMMITTED), oldest first; rows another relay holds are skipped.
    "postgresql": f"SELECT id, created_at, channel, subject, body, payload::text, idempotency_key, error FROM {TABLE} "
    "WHERE error IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
    # SQLite: the relay's IMMEDIATE transaction already holds the only write lock.
    "sqlite": f"SELECT {_COLUMNS} FROM {TABLE} WHERE error IS NULL ORDER BY id LIMIT %s",
}
MARK_ERROR = f"UPDATE {TABLE} SET error = %s WHERE id = %s"
COUNTS = f"SELECT COUNT(*) - COUNT(error), COUNT(error) FROM {TABLE}"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    created_at: datetime | str
    channel: str
    subject: str
    body: str
    payload: str
    idempotency_key: str | None
    error: str | None

    def notification_key(self, source: str) -> str:
        """`<source>:<id>`, or `<source>:key:<idempotency_key>` when the service set one (its own
        retries of the same message then queue it once too)."""
        return f"{source}:key:{self.idempotency_key}" if self.idempotency_key else f"{source}:{self.id}"


def install_statements(vendor: str) -> list[str]:
    return POSTGRESQL_INSTALL if vendor == "postgresql" else SQLITE_INSTALL


def claim_statement(vendor: str) -> str:
    return _CLAIM["postgresql" if vendor == "postgresql" else "sqlite"]


def delete_statement(count: int) -> str:
    """Delete `count` relayed rows by id (one statement per batch)."""
    return f"DELETE FROM {TABLE} WHERE id IN ({', '.join(['%s'] * count)})"


def list_statement(*, errors: bool | None) -> str:
    """The oldest rows (pending, errored or both), without their body and payload."""
    where = {None: "", True: " WHERE error IS NOT NULL", False: " WHERE error IS NULL"}[errors]
    return f"SELECT id, created_at, channel, subject, error FROM {TABLE}{where} ORDER BY id LIMIT %s"


def rows(fetched: list[tuple[Any, ...]]) -> list[OutboxRow]:
    return [OutboxRow(*row) for row in fetched]
