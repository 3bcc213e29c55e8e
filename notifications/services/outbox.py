"""Writes of the notification outbox: enqueue, retry, cancel, replay.

Each is `@writes_guarded` (maintenance/guards.py). Delivery itself is the engine's, in
notifications/delivery/; these services only ring its doorbell after commit, by task name
(opsconsole/doorbell.py), so they never import the tasks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from maintenance.guards import writes_guarded
from notifications import selectors
from notifications.exceptions import ChannelInactive, IdempotencyKeyReused, IllegalTransition, NotificationInvalid
from notifications.models import NotificationChannel, NotificationOutbox, NotificationStatus
from opsconsole import doorbell
from opsconsole.api.parsers import MAX_DEPTH, TooDeep, nul_character_path

SUBJECT_MAX = cast(int, NotificationOutbox._meta.get_field("subject").max_length)
IDEMPOTENCY_KEY_MAX = cast(int, NotificationOutbox._meta.get_field("idempotency_key").max_length)


def _schedule_delivery(outbox_id: int) -> None:
    # A doorbell, rung in the background: the row is committed and the beat sweep delivers
    # it even if this never reaches the broker (opsconsole/doorbell.py).
    doorbell.ring("notifications.tasks.deliver", outbox_id)


def schedule_sweep() -> None:
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


def json_refusal(value: Any) -> str | None:
    """Why a JSON value cannot be stored (a NUL character; too deep), or None."""
    try:
        path = nul_character_path(value)
    except TooDeep:
        return f"Nested more than {MAX_DEPTH} levels deep."
    return None if path is None else f"{path} contains a NUL character (\\u0000), which cannot be stored."


def _validate_notification(*, channel_id: Any, body: Any, subject: Any, payload: Any, idempotency_key: Any) -> None:
    """Raise NotificationInvalid naming every bad field of a notification to enqueue."""
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
    elif payload is not None and (refusal := json_refusal(payload)) is not None:
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


@writes_guarded
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
    _validate_notification(
        channel_id=channel_id, body=body, subject=subject, payload=payload, idempotency_key=idempotency_key
    )
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


@writes_guarded
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
    updated = NotificationOutbox.objects.filter(pk=notification.pk, status__in=NotificationStatus.retryable()).update(
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


@writes_guarded
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


@writes_guarded
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
        transaction.on_commit(schedule_sweep)
    return count
