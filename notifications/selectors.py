"""Reads of notifications that carry a rule."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications.exceptions import ChannelNotFound
from notifications.models import NotificationChannel, NotificationOutbox, NotificationStatus


def channel_get(*, channel_id: int) -> NotificationChannel:
    """The channel with this id, or ChannelNotFound."""
    try:
        return NotificationChannel.objects.get(pk=channel_id)
    except NotificationChannel.DoesNotExist as exc:
        raise ChannelNotFound(f"Channel {channel_id} does not exist.", fields={"channel_id": ["Not found."]}) from exc


def channel_by_name_or_id(*, ref: str) -> NotificationChannel:
    """The channel named `ref`, else the one whose id is `ref`."""
    channel = NotificationChannel.objects.filter(name=ref).first()
    if channel is None and ref.isdigit():
        channel = NotificationChannel.objects.filter(pk=int(ref)).first()
    if channel is None:
        raise ChannelNotFound(f"No channel named or numbered {ref!r}.")
    return channel


def outbox_list() -> QuerySet[NotificationOutbox]:
    """Notifications, newest first, with their channel."""
    return NotificationOutbox.objects.select_related("channel").order_by("-id")


def outbox_deliverable(now: datetime | None = None) -> QuerySet[NotificationOutbox]:
    """Rows a dispatcher may claim: pending and due, or sending with an expired lease; channel active, not paused."""
    now = now or timezone.now()
    # next_attempt_at is NULL for "as soon as possible" (new, retried, replayed rows), so a
    # worker whose clock runs behind the web server's still finds them due.
    due = Q(status=NotificationStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    lease_expired = Q(status=NotificationStatus.SENDING) & (Q(locked_until__isnull=True) | Q(locked_until__lt=now))
    return NotificationOutbox.objects.filter(due | lease_expired, channel__active=True, channel__paused=False)


def outbox_oldest_due_age(now: datetime | None = None) -> float | None:
    """Seconds the longest-waiting deliverable notification has been due, or None when none is."""
    now = now or timezone.now()
    deliverable = outbox_deliverable(now)
    waiting = [
        deliverable.filter(next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)[:1],
        # Due as soon as possible: waiting since it was made (or handed back).
        deliverable.filter(next_attempt_at__isnull=True).order_by("id").values_list("created_at", flat=True)[:1],
    ]
    since = [value for query in waiting for value in query if value is not None]
    return max((now - min(since)).total_seconds(), 0.0) if since else None
