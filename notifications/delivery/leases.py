"""Leases on outbox rows: claim a batch, renew the leases of rows in flight, hand rows back.

A claimed row is `sending` with `locked_until` set to its lease's stamp; only the holder of
that stamp may renew it, hand it back, or record its result (notifications/delivery/results.py).
A row whose lease expired is deliverable again (selectors.outbox_deliverable), and its lost
attempt is counted when it is claimed again (policy.lost_delivery).
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from notifications import selectors
from notifications.channels import ChannelSnapshot, OutgoingMessage
from notifications.conf import notify_settings
from notifications.delivery import policy
from notifications.metrics import deliveries_count
from notifications.models import (
    AttemptOutcome,
    NotificationAttempt,
    NotificationChannel,
    NotificationOutbox,
    NotificationStatus,
)

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Lease:
    """The lease on one batch of claimed rows.

    `until` is both the expiry and the fence token: each row carries it in locked_until,
    and only a holder that knows the current value may record a result or renew it. The
    dispatcher renews it (`outbox_renew_leases`) while the batch's deliveries are in flight,
    so the lease can be short: a dead worker's rows come back within LEASE_SECONDS.
    """

    until: datetime
    outbox_ids: list[int]


@dataclass(frozen=True)
class Claim:
    """A notification leased to this dispatcher, with what delivering it needs."""

    message: OutgoingMessage
    max_attempts: int
    retry_base: int
    rate_limit_per_minute: int | None
    lease: Lease

    @property
    def lease_until(self) -> datetime:
        return self.lease.until


def channel_snapshot(channel: NotificationChannel) -> ChannelSnapshot:
    """What delivery needs of a channel, as plain data."""
    return ChannelSnapshot(
        id=channel.pk,
        name=channel.name,
        channel_type=channel.channel_type,
        target=channel.target,
        config=channel.config or {},
        secret=channel.secret,
        previous_secret=channel.previous_secret,
        previous_secret_expires_at=channel.previous_secret_expires_at,
    )


def _claim(
    *,
    outbox_id: int,
    message_id: str,
    subject: str | None,
    body: str,
    payload: dict[str, Any] | None,
    created_at: datetime,
    attempts: int,
    retry_base: int,
    channel: NotificationChannel,
    snapshot: ChannelSnapshot,
    lease: Lease,
) -> Claim:
    return Claim(
        message=OutgoingMessage(
            outbox_id=outbox_id,
            message_id=message_id,
            subject=subject or "",
            body=body,
            payload=payload,
            created_at=created_at,
            attempt_number=attempts + 1,
            channel=snapshot,
        ),
        max_attempts=channel.max_attempts,
        retry_base=retry_base,
        rate_limit_per_minute=channel.rate_limit_per_minute,
        lease=lease,
    )


CLAIM_FIELDS = ("id", "message_id", "subject", "body", "payload", "created_at", "attempts", "retry_base", "channel")


def _claims_of(ids: list[int], lease_until: datetime) -> list[Claim]:
    rows = list(NotificationOutbox.objects.filter(pk__in=ids).order_by("id").values_list(*CLAIM_FIELDS))
    return _claims_from_rows(rows, lease_until)


def _claims_from_rows(rows: list[tuple], lease_until: datetime) -> list[Claim]:
    """Claims from (CLAIM_FIELDS) tuples in id order, all under one new lease."""
    lease = Lease(until=lease_until, outbox_ids=[row[0] for row in rows])
    # Plain values, and each channel loaded and copied once per batch: building a model
    # instance per row (and its channel per row) was most of the claim's cost.
    channels = NotificationChannel.objects.in_bulk({row[-1] for row in rows})
    snapshots = {pk: channel_snapshot(channel) for pk, channel in channels.items()}
    return [
        _claim(
            outbox_id=outbox_id,
            message_id=message_id,
            subject=subject,
            body=body,
            payload=payload,
            created_at=created_at,
            attempts=attempts,
            retry_base=retry_base,
            channel=channels[channel_id],
            snapshot=snapshots[channel_id],
            lease=lease,
        )
        for outbox_id, message_id, subject, body, payload, created_at, attempts, retry_base, channel_id in rows
    ]


def outbox_is_due(*, outbox_id: int) -> bool:
    """Whether the notification may be claimed now (pending and due, or its lease expired)."""
    return selectors.outbox_deliverable(timezone.now()).filter(pk=outbox_id).exists()


def outbox_claim_due_batch(*, limit: int, outbox_ids: list[int] | None = None) -> list[Claim]:
    """Lease up to `limit` deliverable notifications to the caller (status → sending, locked_until set).

    PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, so concurrent dispatchers take disjoint rows
    without waiting for each other. SQLite has no row locks: an atomic compare-and-set UPDATE
    (only rows still deliverable change) stamped with this claim's own lease time, read back.
    """
    now = timezone.now()
    lease_until = _lease_stamp(now)
    deliverable = selectors.outbox_deliverable(now)
    if outbox_ids is not None:
        deliverable = deliverable.filter(pk__in=outbox_ids)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _claim_locking(deliverable, limit=limit, now=now, lease_until=lease_until)
        rows = list(deliverable.order_by("id").values_list("id", "status")[:limit])
        if not rows:
            return []
        candidates = [pk for pk, _status in rows]
        selectors.outbox_deliverable(now).filter(pk__in=candidates).update(
            status=NotificationStatus.SENDING, locked_until=lease_until, updated_at=now
        )
        ids = list(
            NotificationOutbox.objects.filter(
                pk__in=candidates, status=NotificationStatus.SENDING, locked_until=lease_until
            ).values_list("id", flat=True)
        )
        return _claims_of(_without_given_up(rows, ids, now), lease_until)


def _claim_locking(deliverable, *, limit: int, now: datetime, lease_until: datetime) -> list[Claim]:
    """PostgreSQL: pick (FOR UPDATE SKIP LOCKED), lease and read the rows in one statement.

    One round trip instead of three: the claim runs on the dispatcher's main thread, and
    each round trip there waits for the GIL behind the delivery threads on the way back.
    """
    picked_sql, params = (
        deliverable.select_for_update(skip_locked=True, of=("self",))
        .order_by("id")
        .values_list("id", "status")[:limit]
        .query.sql_with_params()
    )
    qn = connection.ops.quote_name
    table = qn(NotificationOutbox._meta.db_table)
    fields = [NotificationOutbox._meta.get_field(name) for name in CLAIM_FIELDS]
    returning = ", ".join(f"o.{qn(field.column)}" for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH picked (id, status) AS ({picked_sql}) "
            f"UPDATE {table} AS o SET {qn('status')} = %s, {qn('locked_until')} = %s, {qn('updated_at')} = %s "
            f"FROM picked WHERE o.{qn('id')} = picked.id RETURNING picked.status, {returning}",
            [*params, NotificationStatus.SENDING, lease_until, now],
        )
        returned = sorted(cursor.fetchall(), key=lambda row: row[1])
    if not returned:
        return []
    statuses = [(row[1], row[0]) for row in returned]
    ids = [pk for pk, _status in statuses]
    if any(status == NotificationStatus.SENDING for _pk, status in statuses):
        # Reclaimed rows (rare): their lost delivery is counted first, then every row is read again.
        return _claims_of(_without_given_up(statuses, ids, now), lease_until)
    decode = NotificationOutbox._meta.get_field("payload").from_db_value
    at = CLAIM_FIELDS.index("payload")
    # A raw cursor hands back the JSON text: decode it as the ORM would.
    rows = [(*row[1 : at + 1], decode(row[at + 1], None, connection), *row[at + 2 :]) for row in returned]
    return _claims_from_rows(rows, lease_until)


def _without_given_up(rows: list[tuple[int, str]], ids: list[int], now: datetime) -> list[int]:
    """The claimed ids, less the reclaimed rows given up on (their lost delivery counted first)."""
    claimed = set(ids)
    reclaimed = [pk for pk, status in rows if status == NotificationStatus.SENDING and pk in claimed]
    if not reclaimed:
        return ids
    given_up = _count_lost_deliveries(reclaimed, now)
    return [pk for pk in ids if pk not in given_up]


def _lease_stamp(now: datetime) -> datetime:
    """A new lease's expiry, LEASE_SECONDS from now.

    A random offset in the microseconds makes it a token of its own: on SQLite (no row
    locks) it tells this claim's rows from a concurrent claim's, and everywhere it keeps
    two leases taken in the same microsecond apart.
    """
    return now + timedelta(seconds=notify_settings.LEASE_SECONDS, microseconds=random.randrange(1_000_000))


def outbox_renew_leases(*, leases: list[Lease]) -> int:
    """Extend the leases of deliveries still in flight; return how many rows were renewed.

    A row is renewed only while it is still `sending` under the lease's current token; a
    row reclaimed by someone else meanwhile (its lease had expired) stays theirs, and this
    holder's result for it will be logged as stale instead of recorded.
    """
    renewed = 0
    for lease in leases:
        now = timezone.now()
        # Never earlier than the lease it renews: the stamp's random microseconds could
        # otherwise make a renewal made within a second of the claim shorten the lease.
        until = max(_lease_stamp(now), lease.until + timedelta(microseconds=1))
        with transaction.atomic():
            renewed += NotificationOutbox.objects.filter(
                pk__in=lease.outbox_ids, status=NotificationStatus.SENDING, locked_until=lease.until
            ).update(locked_until=until, updated_at=now)
        lease.until = until
    return renewed


def _count_lost_deliveries(outbox_ids: list[int], now: datetime) -> set[int]:
    """Count each reclaimed row's lost delivery as an attempt (policy.lost_delivery); return the ids given up on.

    Called under the claim's transaction, so the redelivery's attempt number follows the lost one.
    """
    rows = NotificationOutbox.objects.filter(pk__in=outbox_ids).values_list(
        "pk", "attempts", "retry_base", "channel__max_attempts", "channel__channel_type"
    )
    log, given_up, counted = [], {}, []
    for pk, attempts, retry_base, max_attempts, channel_type in rows:
        outcome, error = policy.lost_delivery(attempts=attempts, retry_base=retry_base, max_attempts=max_attempts)
        log.append(NotificationAttempt(outbox_id=pk, number=attempts + 1, started_at=now, outcome=outcome, error=error))
        counted.append((channel_type, outcome, None))
        if outcome == AttemptOutcome.FAILED:
            given_up[pk] = error
    NotificationOutbox.objects.filter(pk__in=outbox_ids).update(
        attempts=F("attempts") + 1, last_error=policy.LOST_DELIVERY
    )
    for pk, error in given_up.items():  # rare: one UPDATE each is fine
        NotificationOutbox.objects.filter(pk=pk).update(
            status=NotificationStatus.FAILED, last_error=error, next_attempt_at=None, locked_until=None, updated_at=now
        )
    NotificationAttempt.objects.bulk_create(log)
    deliveries_count(counted)  # attempts without a duration: the delivery's end was never seen
    if given_up:
        logger.warning("notifications %s failed: %s", sorted(given_up), policy.LOST_DELIVERY)
    return set(given_up)


@transaction.atomic
def outbox_release(*, claims: list[Claim], not_before: datetime | None = None) -> int:
    """Hand leased notifications back undelivered (no attempt made), due again at `not_before`."""
    by_lease: dict[datetime, list[int]] = defaultdict(list)
    for claim in claims:
        by_lease[claim.lease_until].append(claim.message.outbox_id)
    now = timezone.now()
    # Only rows still under this claim's lease: one claimed again since is not ours to hand back.
    return sum(
        NotificationOutbox.objects.filter(pk__in=ids, status=NotificationStatus.SENDING, locked_until=lease).update(
            status=NotificationStatus.PENDING, locked_until=None, next_attempt_at=not_before, updated_at=now
        )
        for lease, ids in by_lease.items()
    )
