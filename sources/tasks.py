"""Celery transport for sources: the outbox relay, sent by beat every OPSCONSOLE_SOURCE_RELAY_SECONDS."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from sources.services import source_outbox_relay_all

logger = logging.getLogger(__name__)


@shared_task(
    name="sources.tasks.relay_outboxes",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=2,
)
def relay_outboxes() -> str:
    """Move every source's committed outbox rows into the notifications outbox (safe to run twice)."""
    return str(source_outbox_relay_all())
