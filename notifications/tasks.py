"""Celery transport for notifications: take ids, call the engine. Both tasks are safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from notifications.conf import notify_settings
from notifications.delivery.dispatcher import notification_dispatch_due, notification_dispatch_from

logger = logging.getLogger(__name__)


@shared_task(
    name="notifications.tasks.deliver",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def deliver(outbox_id: int) -> str | None:
    """Sent on commit: deliver this notification, with whatever else is due, through the
    pooled engine (nothing to do when a sweep has taken it already)."""
    summary = notification_dispatch_from(outbox_id=outbox_id, max_seconds=float(notify_settings.SWEEP_MAX_SECONDS))
    return None if summary is None else _logged(summary)


@shared_task(
    name="notifications.tasks.dispatch_due",
    acks_late=True,
    soft_time_limit=90,
    time_limit=120,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=2,
)
def dispatch_due() -> str:
    """The beat sweep: deliver due notifications and reclaim expired leases for up to SWEEP_MAX_SECONDS."""
    return _logged(notification_dispatch_due(max_seconds=float(notify_settings.SWEEP_MAX_SECONDS)))


def _logged(summary) -> str:
    """The summary, logged at INFO when the sweep did something and at DEBUG when it found nothing."""
    text = str(summary)
    logger.log(logging.INFO if summary.claimed else logging.DEBUG, "delivery sweep: %s", text)
    return text
