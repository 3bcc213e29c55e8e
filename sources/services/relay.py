"""The transactional outbox relay: a service's committed `opsconsole_outbox` rows become notifications.

Each row is enqueued with the idempotency key `<source>:<id>` and then deleted from the
source. The two databases share no transaction, so a relay that dies between the two
commits leaves the row behind; relaying it again finds the notification by its key and
only deletes the row: a message is never queued twice. A row whose channel is unknown or
inactive (or whose content the outbox refuses) is kept with `error` set, never dropped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, transaction

from maintenance.selectors import is_normal
from notifications.models import NotificationChannel
from notifications.services import notification_enqueue
from opsconsole.errors import OpsConsoleError
from sources import outbox
from sources.conf import sources_settings
from sources.connections import Source, source_get, source_list
from sources.exceptions import SourceReadOnly, SourceUnreachable
from sources.introspection import describe_table

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 1000


@dataclass
class RelayResult:
    relayed: int = 0
    errored: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: RelayResult) -> None:
        self.relayed += other.relayed
        self.errored += other.errored
        self.errors += other.errors

    def __str__(self) -> str:
        return f"{self.relayed} relayed, {self.errored} kept with an error"


def _writable(name: Any, what: str) -> Source:
    source = source_get(name)
    if source.read_only:
        raise SourceReadOnly(source.name, what)
    return source


def source_outbox_install(*, source: Any) -> str:
    """Create the source's `opsconsole_outbox` table (idempotent); return the INSERT a service uses."""
    found = _writable(source, "installing the outbox table")
    try:
        with transaction.atomic(using=found.alias), found.connection.cursor() as cursor:
            for statement in outbox.install_statements(found.vendor):
                cursor.execute(statement)
    except DatabaseError as exc:
        raise SourceUnreachable(f"Source {found.name!r}: the outbox table was not created ({exc}).") from exc
    return outbox.INSERT_EXAMPLE[found.vendor]


def source_outbox_installed(source: Source) -> bool:
    return describe_table(source, outbox.TABLE) is not None


def _enqueue(source: Source, row: outbox.OutboxRow, channels: dict[str, NotificationChannel | None]) -> str:
    """Enqueue one row into the notifications outbox; return "" or why it stays in the source."""
    if row.channel not in channels:
        channels[row.channel] = NotificationChannel.objects.filter(name=row.channel).first()
    channel = channels[row.channel]
    if channel is None:
        return f"Unknown channel {row.channel!r}: create it, then retry the row."
    try:
        payload = json.loads(row.payload) if isinstance(row.payload, str) else row.payload
    except ValueError:
        return "payload is not JSON."
    try:
        notification_enqueue(
            channel_id=channel.pk,
            subject=row.subject,
            body=row.body,
            payload=payload,
            idempotency_key=row.notification_key(source.name),
        )
    except OpsConsoleError as exc:  # inactive channel, a refused subject/body/payload
        return f"{type(exc).__name__}: {exc.detail} {json.dumps(exc.fields)}"[:ERROR_MAX_LENGTH]
    return ""


def source_outbox_relay(*, source: Any, batch_size: int | None = None) -> RelayResult:
    """Relay one batch of committed rows of a source's outbox; safe to run concurrently and twice."""
    found = _writable(source, "the outbox relay")
    result = RelayResult()
    if not is_normal():  # the notifications outbox takes no writes now: rows wait in the source
        return result
    limit = int(batch_size or sources_settings.RELAY_BATCH_SIZE)
    channels: dict[str, NotificationChannel | None] = {}
    relayed: list[int] = []
    # The notifications of a batch commit together, before the source's transaction deletes
    # their rows (the with-blocks unwind inner first): a failure in between leaves rows that
    # the next relay finds already queued under their keys.
    with (
        transaction.atomic(using=found.alias),
        found.connection.cursor() as cursor,
        transaction.atomic(using=DEFAULT_DB_ALIAS),
    ):
        cursor.execute(outbox.claim_statement(found.vendor), [limit])
        for row in outbox.rows(cursor.fetchall()):
            error = _enqueue(found, row, channels)
            if error:
                cursor.execute(outbox.MARK_ERROR, [error, row.id])
                result.errors.append(f"{found.name}:{row.id}: {error}")
            else:
                relayed.append(row.id)
        if relayed:
            cursor.execute(outbox.delete_statement(len(relayed)), relayed)
    result.relayed, result.errored = len(relayed), len(result.errors)
    if result.relayed or result.errored:
        logger.info("outbox relay %s: %s", found.name, result)
    return result


def source_outbox_relay_all(*, max_batches: int = 50) -> RelayResult:
    """Relay every writable source with an outbox table until empty (at most `max_batches` each)."""
    total = RelayResult()
    for source in source_list():
        if source.read_only:
            continue
        try:
            if not source_outbox_installed(source):
                continue
            total.add(source_outbox_relay_until_empty(source=source.name, max_batches=max_batches))
        except (SourceUnreachable, DatabaseError) as exc:  # one source down never stops the others
            logger.warning("outbox relay %s skipped: %s", source.name, exc)
    return total


def source_outbox_relay_until_empty(*, source: Any, max_batches: int = 50) -> RelayResult:
    """Relay batches of one source until none is left to relay (at most `max_batches`)."""
    total = RelayResult()
    for _ in range(max_batches):
        batch = source_outbox_relay(source=source)
        total.add(batch)
        if batch.relayed + batch.errored == 0:
            break
    return total


def source_outbox_retry(*, source: Any, ids: list[int] | None = None) -> int:
    """Clear the error of kept rows (all, or `ids`) so the next relay tries them again; return how many."""
    found = _writable(source, "retrying outbox rows")
    sql = f"UPDATE {outbox.TABLE} SET error = NULL WHERE error IS NOT NULL"
    params: list[Any] = []
    if ids is not None:
        if not ids:
            return 0
        sql += f" AND id IN ({', '.join(['%s'] * len(ids))})"
        params = list(ids)
    with transaction.atomic(using=found.alias), found.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
