"""Every write of the notifications app: channels, the outbox, and the dispatcher's claims and results."""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from notifications import selectors
from notifications.channels import ChannelSnapshot, OutgoingMessage, get_backend
from notifications.channels.base import MOVED_REFUSAL
from notifications.channels.webhook import generate_secret
from notifications.conf import notify_settings
from notifications.exceptions import (
    ChannelInactive,
    ChannelInUse,
    ChannelInvalid,
    IdempotencyKeyReused,
    IllegalTransition,
    NotificationInvalid,
)
from notifications.models import (
    AttemptOutcome,
    ChannelType,
    NotificationAttempt,
    NotificationChannel,
    NotificationOutbox,
    NotificationStatus,
)
from opsconsole import doorbell
from opsconsole.api.parsers import MAX_DEPTH, TooDeep, nul_character_path

logger = logging.getLogger(__name__)

NAME_MAX = cast(int, NotificationChannel._meta.get_field("name").max_length)
TARGET_MAX = cast(int, NotificationChannel._meta.get_field("target").max_length)
SUBJECT_MAX = cast(int, NotificationOutbox._meta.get_field("subject").max_length)
IDEMPOTENCY_KEY_MAX = cast(int, NotificationOutbox._meta.get_field("idempotency_key").max_length)
MAX_ATTEMPTS_LIMIT = 50  # well inside max_attempts' PositiveSmallIntegerField (32767)
# Far above what any endpoint takes, and inside rate_limit_per_minute's integer column:
# a larger number used to reach PostgreSQL and come back as an overflow (a 500).
RATE_LIMIT_MAX = 100_000
UNSET: Any = object()


# --- Channels -----------------------------------------------------------------------------------


def channel_clean(
    *,
    channel: NotificationChannel | None = None,
    name: str = UNSET,
    channel_type: str = UNSET,
    target: str = UNSET,
    config: Any = UNSET,
    max_attempts: Any = UNSET,
    rate_limit_per_minute: Any = UNSET,
) -> dict[str, Any]:
    """Validate channel fields (new values over the channel's current ones); return the cleaned values.

    Raises ChannelInvalid with every field error at once.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}

    def current(field: str, value: Any, default: Any) -> Any:
        if value is not UNSET:
            return value
        return getattr(channel, field) if channel is not None else default

    if name is not UNSET or channel is None:
        value = (name if name is not UNSET else "") or ""
        value = value.strip() if isinstance(value, str) else value
        if not isinstance(value, str) or not value:
            errors["name"] = ["This field is required."]
        elif len(value) > NAME_MAX:
            errors["name"] = [f"Ensure this field has no more than {NAME_MAX} characters."]
        elif NotificationChannel.objects.filter(name=value).exclude(pk=getattr(channel, "pk", None)).exists():  # type: ignore[misc]  # pk=None: a new channel
            errors["name"] = ["A channel with this name already exists."]
        else:
            cleaned["name"] = value

    type_value = current("channel_type", channel_type, "")
    if channel is not None and channel_type is not UNSET and channel_type != channel.channel_type:
        errors["channel_type"] = ["The type of a channel cannot change; create a new channel."]
    elif type_value not in ChannelType.values:
        choices = ", ".join(ChannelType.values)
        errors["channel_type"] = [f"Unknown channel type {type_value!r}; choose one of {choices}."]
    else:
        cleaned["channel_type"] = type_value

    config_value = current("config", config, {})
    if config_value is None:
        config_value = {}
    if not isinstance(config_value, dict):
        errors["config"] = ["Must be a JSON object."]
    elif (refusal := _json_refusal(config_value)) is not None:
        errors["config"] = [refusal]
    elif "channel_type" in cleaned:
        try:
            config_value = get_backend(cleaned["channel_type"]).clean_config(config_value)
            if config is not UNSET or channel is None:
                cleaned["config"] = config_value
        except ValueError as exc:
            errors["config"] = [str(exc)]

    if "channel_type" in cleaned and (target is not UNSET or channel is None or config is not UNSET):
        target_value = current("target", target, "")
        if not isinstance(target_value, str):
            errors["target"] = ["Must be a string."]
        elif len(target_value) > TARGET_MAX:
            errors["target"] = [f"Ensure this field has no more than {TARGET_MAX} characters."]
        else:
            try:
                cleaned["target"] = get_backend(cleaned["channel_type"]).clean_target(
                    target_value, config_value if isinstance(config_value, dict) else {}
                )
            except ValueError as exc:
                errors["target"] = [str(exc)]

    if max_attempts is not UNSET:
        if (
            not isinstance(max_attempts, int)
            or isinstance(max_attempts, bool)
            or not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT
        ):
            errors["max_attempts"] = [f"Must be an integer from 1 to {MAX_ATTEMPTS_LIMIT}."]
        else:
            cleaned["max_attempts"] = max_attempts
    if rate_limit_per_minute is not UNSET:
        value = rate_limit_per_minute
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= RATE_LIMIT_MAX
        ):
            errors["rate_limit_per_minute"] = [f"Must be an integer from 1 to {RATE_LIMIT_MAX}, or null."]
        else:
            cleaned["rate_limit_per_minute"] = value

    if errors:
        raise ChannelInvalid(f"Invalid channel: {', '.join(sorted(errors))}.", fields=errors)
    return cleaned


@transaction.atomic
def channel_create(
    *,
    name: str,
    channel_type: str,
    target: str,
    active: bool = True,
    description: str | None = None,
    config: dict[str, Any] | None = None,
    max_attempts: int = 8,
    rate_limit_per_minute: int | None = None,
) -> NotificationChannel:
    """Create a channel; webhook channels get a new whsec_ secret (read it from the returned object once)."""
    cleaned = channel_clean(
        name=name,
        channel_type=channel_type,
        target=target,
        config=config if config is not None else {},
        max_attempts=max_attempts,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    channel = NotificationChannel(
        active=bool(active),
        description=description,
        secret=generate_secret() if get_backend(cleaned["channel_type"]).uses_secret else "",
        **cleaned,
    )
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:  # a concurrent create with the same name won the race
        raise ChannelInvalid(fields={"name": ["A channel with this name already exists."]}) from exc
    return channel


# What staff may set on a channel; the rest (health, secret) only the engine writes.
CHANNEL_EDITABLE_FIELDS = (
    "name",
    "channel_type",
    "target",
    "active",
    "description",
    "config",
    "max_attempts",
    "rate_limit_per_minute",
)


def channel_restore_credentials(*, channel: NotificationChannel, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` with the masked (REDACTED) credentials a client sent back replaced by the stored ones.

    What the API and the admin show is redacted; sending it back means "keep what is stored" —
    but only while the target keeps its destination (scheme, host, port). When it moves, a
    stored credential would follow it to a server nobody gave it to: every masked value, and
    every stored config credential not given again, is a ChannelInvalid naming it.
    """
    backend = get_backend(channel.channel_type)
    changes = dict(changes)
    errors: dict[str, list[str]] = {}
    moved = False
    if isinstance(changes.get("target"), str):
        new_target = changes["target"]
        moved = new_target != backend.redact_target(channel.target) and backend.destination(
            new_target
        ) != backend.destination(channel.target)
        try:
            changes["target"] = backend.unredact_target(new_target, channel.target)
        except ValueError as exc:
            errors["target"] = [str(exc)]
    stored_config = channel.config or {}
    if isinstance(changes.get("config"), dict):
        try:
            changes["config"] = backend.unredact_config(changes["config"], stored_config, moved=moved)
        except ValueError as exc:
            errors["config"] = [str(exc)]
    elif moved and "config" not in changes and (stored := backend.config_credentials(stored_config)):
        names = ", ".join(f"config.{name}" for name in stored)
        errors["config"] = [
            f"{names}: {MOVED_REFUSAL}. Send config with the values for the new destination (or without them)."
        ]
    if errors:
        raise ChannelInvalid(f"Invalid channel: {', '.join(sorted(errors))}.", fields=errors)
    return changes


@transaction.atomic
def channel_update(*, channel: NotificationChannel, **changes: Any) -> NotificationChannel:
    """Change a channel's fields (name, target, active, description, config, max_attempts, rate_limit_per_minute)."""
    unknown = sorted(set(changes) - set(CHANNEL_EDITABLE_FIELDS))
    if unknown:
        raise ChannelInvalid(fields={key: ["This field cannot be changed."] for key in unknown})
    changes = channel_restore_credentials(channel=channel, changes=changes)
    validated = {k: v for k, v in changes.items() if k not in ("active", "description")}
    cleaned = channel_clean(channel=channel, **validated)
    cleaned.pop("channel_type", None)
    for field, value in cleaned.items():
        setattr(channel, field, value)
    if "description" in changes:
        channel.description = changes["description"]
    if "active" in changes:
        was_active, channel.active = channel.active, bool(changes["active"])
        if channel.active and not was_active:
            # Reactivated: the reason it was disabled no longer holds. (An active channel that is
            # paused keeps the reason of its pause; resume clears that one.)
            channel.disabled_reason = ""
    channel.save()
    return channel


@transaction.atomic
def channel_delete(*, channel: NotificationChannel) -> None:
    """Delete a channel that never had notifications; one with outbox rows must be deactivated instead."""
    if NotificationOutbox.objects.filter(channel=channel).exists():
        raise ChannelInUse(
            f"Channel {channel.name!r} has notifications in its outbox; deactivate it (PATCH active=false) instead.",
        )
    channel.delete()


@transaction.atomic
def channel_rotate_secret(*, channel: NotificationChannel) -> NotificationChannel:
    """Give a webhook channel a new whsec_ secret; the old one keeps signing alongside for the grace period.

    Rolling secrets (as Svix and Convoy do): for SECRET_GRACE_HOURS every delivery carries
    a signature with each secret, so a receiver verifies while it switches to the new one.
    Rotating again within the grace replaces the previous secret: at most two ever sign.
    """
    if not get_backend(channel.channel_type).uses_secret:
        raise ChannelInvalid(
            f"{channel.channel_type} channels have no signing secret.",
            fields={"channel_type": ["Only webhook channels have a secret."]},
        )
    grace = timedelta(hours=max(0.0, float(notify_settings.SECRET_GRACE_HOURS)))
    if channel.secret and grace:
        channel.previous_secret = channel.secret
        channel.previous_secret_expires_at = timezone.now() + grace
    else:
        channel.previous_secret, channel.previous_secret_expires_at = "", None
    channel.secret = generate_secret()
    channel.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return channel


@transaction.atomic
def channel_pause(*, channel: NotificationChannel, reason: str = "Paused by staff.") -> NotificationChannel:
    """Hold a channel's deliveries (they stay queued) until it is resumed."""
    NotificationChannel.objects.filter(pk=channel.pk).update(
        paused=True, disabled_reason=reason, updated_at=timezone.now()
    )
    channel.refresh_from_db()
    return channel


@transaction.atomic
def channel_resume(*, channel: NotificationChannel) -> NotificationChannel:
    """Deliver a paused channel's queue again, starting with a clean failure count."""
    NotificationChannel.objects.filter(pk=channel.pk).update(
        paused=False, consecutive_failures=0, disabled_reason="", updated_at=timezone.now()
    )
    channel.refresh_from_db()
    transaction.on_commit(_schedule_sweep)
    return channel


def channel_send_test(*, channel: NotificationChannel) -> NotificationOutbox:
    """Queue a test notification on the channel (delivered and audited like any other)."""
    notification, _ = notification_enqueue(
        channel_id=channel.pk,
        subject="OpsConsole test notification",
        body=f"This is a test notification for channel {channel.name!r}.",
        payload={"test": True, "channel": channel.name},
    )
    return notification


# --- The outbox ---------------------------------------------------------------------------------


def _schedule_delivery(outbox_id: int) -> None:
    # A doorbell, rung in the background: the row is committed and the beat sweep delivers
    # it even if this never reaches the broker (opsconsole/doorbell.py).
    doorbell.ring("notifications.tasks.deliver", outbox_id)


def _schedule_sweep() -> None:
    doorbell.ring("notifications.tasks.dispatch_due")


def _same_request(existing: NotificationOutbox, *, subject: Any, body: Any, payload: Any) -> NotificationOutbox:
    """The earlier notification of an Idempotency-Key, if this request asks for the same one.

    A key sent again with another body is a client bug (a reused key, a changed retry):
    answering with the old row would silently drop the new message.
    """
    differs = [
        name
        for name, sent, stored in (
            ("subject", subject or None, existing.subject or None),
            ("body", body, existing.body),
            ("payload", payload, existing.payload),
        )
        if sent != stored
    ]
    if differs:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {existing.idempotency_key!r} was used for notification {existing.pk} "
            f"with a different {', '.join(differs)}; use a new key for a new notification.",
            fields={name: ["Differs from the notification this key was first used for."] for name in differs},
        )
    return existing


def _json_refusal(value: Any) -> str | None:
    """Why a JSON value cannot be stored (a NUL character; too deep), or None."""
    try:
        path = nul_character_path(value)
    except TooDeep:
        return f"Nested more than {MAX_DEPTH} levels deep."
    return None if path is None else f"{path} contains a NUL character (\\u0000), which cannot be stored."


def notification_enqueue(
    *,
    channel_id: Any,
    body: Any,
    subject: Any = None,
    payload: Any = None,
    idempotency_key: str | None = None,
) -> tuple[NotificationOutbox, bool]:
    """Queue a notification in the caller's transaction; delivery starts when it commits.

    Returns (notification, created). With an idempotency key already used on the channel,
    returns the existing row and False.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(body, str) or not body.strip():
        errors["body"] = ["This field is required."]
    if subject is not None and not isinstance(subject, str):
        errors["subject"] = ["Must be a string."]
    elif subject is not None and len(subject) > SUBJECT_MAX:
        errors["subject"] = [f"Ensure this field has no more than {SUBJECT_MAX} characters."]
    elif subject is not None and ("\r" in subject or "\n" in subject):
        # An email Subject header cannot carry a line break (it would start a new header).
        errors["subject"] = ["Must be a single line (no CR or LF)."]
    if payload is not None and not isinstance(payload, dict):
        errors["payload"] = ["Must be a JSON object."]
    elif payload is not None and (refusal := _json_refusal(payload)) is not None:
        errors["payload"] = [refusal]
    for name, text in (("body", body), ("subject", subject)):
        if isinstance(text, str) and "\x00" in text:
            errors[name] = ["Null characters are not allowed."]
    if idempotency_key is not None and (not idempotency_key.strip() or len(idempotency_key) > IDEMPOTENCY_KEY_MAX):
        errors["idempotency_key"] = [f"Must be 1 to {IDEMPOTENCY_KEY_MAX} characters."]
    if not isinstance(channel_id, int) or isinstance(channel_id, bool):
        errors["channel_id"] = ["A valid integer is required."]
    if errors:
        raise NotificationInvalid(f"Invalid notification: {', '.join(sorted(errors))}.", fields=errors)

    with transaction.atomic():
        channel = selectors.channel_get(channel_id=channel_id)
        if idempotency_key:
            existing = NotificationOutbox.objects.filter(channel=channel, idempotency_key=idempotency_key).first()
            if existing is not None:
                return _same_request(existing, subject=subject, body=body, payload=payload), False
        if not channel.active:
            raise ChannelInactive(
                f"Channel {channel.name!r} is inactive.", fields={"channel_id": ["Channel is inactive."]}
            )
        try:
            with transaction.atomic():
                notification = NotificationOutbox.objects.create(
                    channel=channel,
                    subject=subject,
                    body=body,
                    payload=payload,
                    idempotency_key=idempotency_key or None,
                    next_attempt_at=None,
                )
        except IntegrityError:
            # Same key sent twice at once: the other request created the row.
            existing = NotificationOutbox.objects.get(channel=channel, idempotency_key=idempotency_key)
            return _same_request(existing, subject=subject, body=body, payload=payload), False
        transaction.on_commit(lambda: _schedule_delivery(notification.pk))
    return notification, True


@transaction.atomic
def notification_retry(*, notification: NotificationOutbox) -> NotificationOutbox:
    """Send a failed or cancelled notification again now, with a fresh attempt budget and the same message_id."""
    channel = NotificationChannel.objects.get(pk=notification.channel_id)
    if not channel.active:
        # Queued for an inactive channel it would wait, pending, for a reactivation nobody plans.
        raise IllegalTransition(
            f"Channel {channel.name!r} is inactive ({channel.disabled_reason or 'deactivated'}); "
            "activate it before retrying its notifications.",
            status=notification.status,
        )
    updated = NotificationOutbox.objects.filter(
        pk=notification.pk, status__in=[NotificationStatus.FAILED, NotificationStatus.CANCELLED]
    ).update(
        status=NotificationStatus.PENDING,
        retry_base=F("attempts"),
        next_attempt_at=None,
        locked_until=None,
        updated_at=timezone.now(),
    )
    if not updated:
        notification.refresh_from_db()
        raise IllegalTransition(
            f"Only failed or cancelled notifications can be retried; this one is {notification.status}.",
            status=notification.status,
        )
    notification.refresh_from_db()
    transaction.on_commit(lambda: _schedule_delivery(notification.pk))
    return notification


@transaction.atomic
def notification_cancel(*, notification: NotificationOutbox) -> NotificationOutbox:
    """Stop a pending notification from being delivered."""
    updated = NotificationOutbox.objects.filter(pk=notification.pk, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.CANCELLED, locked_until=None, next_attempt_at=None, updated_at=timezone.now()
    )
    if not updated:
        notification.refresh_from_db()
        raise IllegalTransition(
            f"Only pending notifications can be cancelled; this one is {notification.status}.",
            status=notification.status,
        )
    notification.refresh_from_db()
    return notification


@transaction.atomic
def notification_replay(
    *,
    channel_id: int | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> int:
    """Queue every failed notification of a channel and creation range again; return how many.

    Only active channels' notifications are queued (an inactive channel's would wait,
    pending, for a reactivation); naming an inactive channel is an illegal transition.
    """
    if channel_id is not None:
        channel = selectors.channel_get(channel_id=channel_id)
        if not channel.active:
            raise IllegalTransition(
                f"Channel {channel.name!r} is inactive; activate it before replaying its notifications.",
                status="inactive",
            )
    rows = NotificationOutbox.objects.filter(status=NotificationStatus.FAILED, channel__active=True)
    if channel_id is not None:
        rows = rows.filter(channel_id=channel_id)
    if created_after is not None:
        rows = rows.filter(created_at__gte=created_after)
    if created_before is not None:
        rows = rows.filter(created_at__lt=created_before)
    now = timezone.now()
    count = rows.update(
        status=NotificationStatus.PENDING,
        retry_base=F("attempts"),
        next_attempt_at=None,
        locked_until=None,
        updated_at=now,
    )
    if count:
        transaction.on_commit(_schedule_sweep)
    return count


# --- The dispatcher's writes ---------------------------------------------------------------------


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


@dataclass
class DeliveryResult:
    claim: Claim
    started_at: datetime
    duration_ms: int
    outcome: str
    http_status: int | None = None
    error: str = ""
    response_excerpt: str = ""
    retry_after: float | None = None
    channel_gone: bool = False
    permanent: bool = False


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


def claim_from_row(row: NotificationOutbox, lease_until: datetime) -> Claim:
    """A claim built from an ORM row (for benchmarks that deliver without leasing)."""
    return _claim(
        outbox_id=row.pk,
        message_id=row.message_id,
        subject=row.subject,
        body=row.body,
        payload=row.payload,
        created_at=row.created_at,
        attempts=row.attempts,
        retry_base=row.retry_base,
        channel=row.channel,
        snapshot=channel_snapshot(row.channel),
        lease=Lease(until=lease_until, outbox_ids=[row.pk]),
    )


def _claims_of(ids: list[int], lease_until: datetime) -> list[Claim]:
    lease = Lease(until=lease_until, outbox_ids=list(ids))
    # Plain values, and each channel loaded and copied once per batch: building a model
    # instance per row (and its channel per row) was most of the claim's cost.
    fields = ("id", "message_id", "subject", "body", "payload", "created_at", "attempts", "retry_base", "channel")
    rows = list(NotificationOutbox.objects.filter(pk__in=ids).order_by("id").values_list(*fields))
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
        if connection.features.has_select_for_update_skip_locked:
            rows = list(
                deliverable.select_for_update(skip_locked=True, of=("self",))
                .order_by("id")
                .values_list("id", "status")[:limit]
            )
            if not rows:
                return []
            ids = [pk for pk, _status in rows]
            NotificationOutbox.objects.filter(pk__in=ids).update(
                status=NotificationStatus.SENDING, locked_until=lease_until, updated_at=now
            )
        else:
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
        claimed = set(ids)
        reclaimed = [pk for pk, status in rows if status == NotificationStatus.SENDING and pk in claimed]
        if reclaimed:
            given_up = _count_lost_deliveries(reclaimed, now)
            ids = [pk for pk in ids if pk not in given_up]
        return _claims_of(ids, lease_until)


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
        until = _lease_stamp(now)
        with transaction.atomic():
            renewed += NotificationOutbox.objects.filter(
                pk__in=lease.outbox_ids, status=NotificationStatus.SENDING, locked_until=lease.until
            ).update(locked_until=until, updated_at=now)
        lease.until = until
    return renewed


LOST_DELIVERY = "The delivering worker stopped before recording a result (its lease expired)."


def _count_lost_deliveries(outbox_ids: list[int], now: datetime) -> set[int]:
    """Count a delivery whose lease expired as an attempt that failed; return the ids given up on.

    Otherwise a message that kills its worker every time (or hangs it past the lease) would
    be reclaimed forever without its attempts ever growing. Called under the claim's
    transaction, so the redelivery's attempt number follows the lost one.
    """
    rows = NotificationOutbox.objects.filter(pk__in=outbox_ids).values_list(
        "pk", "attempts", "retry_base", "channel__max_attempts"
    )
    log, given_up = [], {}
    for pk, attempts, retry_base, max_attempts in rows:
        exhausted = attempts + 1 - retry_base >= max_attempts
        error = f"{LOST_DELIVERY} (gave up after {max_attempts} attempts)" if exhausted else LOST_DELIVERY
        log.append(
            NotificationAttempt(
                outbox_id=pk,
                number=attempts + 1,
                started_at=now,
                outcome=AttemptOutcome.FAILED if exhausted else AttemptOutcome.RETRY,
                error=error,
            )
        )
        if exhausted:
            given_up[pk] = error
    NotificationOutbox.objects.filter(pk__in=outbox_ids).update(attempts=F("attempts") + 1, last_error=LOST_DELIVERY)
    for pk, error in given_up.items():  # rare: one UPDATE each is fine
        NotificationOutbox.objects.filter(pk=pk).update(
            status=NotificationStatus.FAILED, last_error=error, next_attempt_at=None, locked_until=None, updated_at=now
        )
    NotificationAttempt.objects.bulk_create(log)
    if given_up:
        logger.warning("notifications %s failed: %s", sorted(given_up), LOST_DELIVERY)
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


def retry_delay(*, attempt_in_round: int, retry_after: float | None = None) -> float:
    """Seconds until the next attempt: exponential backoff with full jitter, at least Retry-After.

    The ceiling doubles from BACKOFF_BASE each attempt up to BACKOFF_MAX, and the delay is
    drawn uniformly from half of BACKOFF_BASE up to that ceiling. Full jitter (AWS's
    "Exponential Backoff and Jitter") spreads the retries of many notifications that failed
    together, the first ones too; the floor keeps a retry from ever being immediate.
    """
    base = float(notify_settings.BACKOFF_BASE)
    cap = float(notify_settings.BACKOFF_MAX)
    ceiling = min(cap, base * (2 ** max(0, attempt_in_round - 1)))
    delay = random.uniform(min(base / 2, ceiling), ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, 86_400.0))
    return delay


def final_outcome(result: DeliveryResult) -> str:
    """The attempt's outcome after the attempt budget: a retry past max_attempts is a failure."""
    if result.outcome == AttemptOutcome.RETRY:
        attempts_in_round = result.claim.message.attempt_number - result.claim.retry_base
        if attempts_in_round >= result.claim.max_attempts:
            return AttemptOutcome.FAILED
    return result.outcome


@transaction.atomic
def outbox_record_results(*, results: list[DeliveryResult]) -> None:
    """Write the attempts of a set of deliveries and move each notification and channel on.

    Sent rows are finished in one UPDATE per lease; retries and failures need a row each.
    A row is only moved while it is still `sending` under this claim's lease: a worker
    whose lease expired and whose row was claimed again records nothing (no attempt, no
    channel health), so the new holder's result is the one that counts.
    """
    if not results:
        return
    now = timezone.now()
    landed: list[DeliveryResult] = []
    attempts = []
    sent: dict[datetime, list[DeliveryResult]] = defaultdict(list)
    for result in results:
        outcome = final_outcome(result)
        error = result.error
        if outcome == AttemptOutcome.FAILED and result.outcome == AttemptOutcome.RETRY:
            error = f"{error} (gave up after {result.claim.max_attempts} attempts)"
        if outcome == AttemptOutcome.SENT:
            sent[result.claim.lease_until].append(result)
            continue
        if outcome == AttemptOutcome.RETRY:
            delay = retry_delay(
                attempt_in_round=result.claim.message.attempt_number - result.claim.retry_base,
                retry_after=result.retry_after,
            )
            moved = _still_leased(result.claim).update(
                status=NotificationStatus.PENDING,
                attempts=F("attempts") + 1,
                last_error=error,
                next_attempt_at=now + timedelta(seconds=delay),
                locked_until=None,
                updated_at=now,
            )
        else:
            moved = _still_leased(result.claim).update(
                status=NotificationStatus.FAILED,
                attempts=F("attempts") + 1,
                last_error=error,
                next_attempt_at=None,
                locked_until=None,
                updated_at=now,
            )
        if moved:
            landed.append(result)
            attempts.append(_attempt_row(result, outcome, error))
        else:
            _log_stale(result)
    for lease_until, lease_results in sent.items():
        for result in _finish_sent(lease_until, lease_results, now):
            landed.append(result)
            attempts.append(_attempt_row(result, AttemptOutcome.SENT, result.error))
    NotificationAttempt.objects.bulk_create(attempts)
    _record_channel_health(landed, now)


def _still_leased(claim: Claim) -> QuerySet[NotificationOutbox]:
    """The claim's row while it is still `sending` under this claim's lease (locked_until is the lease's stamp)."""
    return NotificationOutbox.objects.filter(
        pk=claim.message.outbox_id, status=NotificationStatus.SENDING, locked_until=claim.lease_until
    )


def _finish_sent(lease_until: datetime, results: list[DeliveryResult], now: datetime) -> list[DeliveryResult]:
    """Mark the rows of one lease sent; return the results whose row still carried the lease."""
    finished = {
        "status": NotificationStatus.SENT,
        "attempts": F("attempts") + 1,
        "sent_at": now,
        "last_error": None,
        "next_attempt_at": None,
        "locked_until": None,
        "updated_at": now,
    }
    ids = [result.claim.message.outbox_id for result in results]
    # The hot path is one UPDATE; only when some row was claimed again since (its lease
    # expired) is it undone and redone row by row, to learn which rows are still ours.
    savepoint = transaction.savepoint()
    moved = NotificationOutbox.objects.filter(
        pk__in=ids, status=NotificationStatus.SENDING, locked_until=lease_until
    ).update(**finished)
    if moved == len(ids):
        transaction.savepoint_commit(savepoint)
        return results
    transaction.savepoint_rollback(savepoint)
    landed = []
    for result in results:
        if _still_leased(result.claim).update(**finished):
            landed.append(result)
        else:
            _log_stale(result)
    return landed


def _attempt_row(result: DeliveryResult, outcome: str, error: str) -> NotificationAttempt:
    return NotificationAttempt(
        outbox_id=result.claim.message.outbox_id,
        number=result.claim.message.attempt_number,
        started_at=result.started_at,
        duration_ms=result.duration_ms,
        outcome=outcome,
        http_status=result.http_status,
        error=error,
        response_excerpt=result.response_excerpt[:1024],
    )


def _log_stale(result: DeliveryResult) -> None:
    logger.warning(
        "stale result of notification %s (attempt %s, %s) not recorded: its lease until %s expired "
        "and the row was claimed again or changed",
        result.claim.message.outbox_id,
        result.claim.message.attempt_number,
        result.outcome,
        result.claim.lease_until.isoformat(),
    )


def _record_channel_health(results: list[DeliveryResult], now: datetime) -> None:
    per_channel: dict[int, list[DeliveryResult]] = defaultdict(list)
    for result in results:
        per_channel[result.claim.message.channel.id].append(result)
    threshold = int(notify_settings.PAUSE_AFTER_FAILURES)
    for channel_id, channel_results in per_channel.items():
        channel_results.sort(key=lambda r: r.started_at)
        last_success = max((i for i, r in enumerate(channel_results) if r.outcome == AttemptOutcome.SENT), default=-1)
        trailing_failures = channel_results[last_success + 1 :]
        channel = NotificationChannel.objects.filter(pk=channel_id)
        if last_success >= 0 and not trailing_failures:
            # The hot path: skip the write (and its row lock, which every delivery thread
            # would queue on) while the health fields are already right to the second.
            channel.filter(
                Q(consecutive_failures__gt=0)
                | Q(last_success_at__isnull=True)
                | Q(last_success_at__lt=now - timedelta(seconds=1))
            ).update(consecutive_failures=0, last_success_at=now)
            continue
        last_error = trailing_failures[-1].error
        if last_success >= 0:
            channel.update(
                consecutive_failures=len(trailing_failures),
                last_success_at=now,
                last_failure_at=now,
                last_error=last_error,
            )
        else:
            channel.update(
                consecutive_failures=F("consecutive_failures") + len(trailing_failures),
                last_failure_at=now,
                last_error=last_error,
            )
        gone = [r for r in trailing_failures if r.channel_gone]
        if gone:
            channel.update(
                active=False,
                disabled_reason=f"Deactivated at {now:%Y-%m-%d %H:%M:%S}Z: the endpoint answered 410 Gone.",
                updated_at=now,
            )
        if threshold > 0:
            channel.filter(consecutive_failures__gte=threshold, paused=False).update(
                paused=True,
                disabled_reason=f"Paused after {threshold} consecutive failed deliveries; last error: {last_error}",
                updated_at=now,
            )
