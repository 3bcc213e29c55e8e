"""Celery transport for the maintenance app: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from maintenance.services import maintenance_expire


@shared_task(name="maintenance.tasks.expire_maintenance", acks_late=True, soft_time_limit=30, time_limit=60)
def expire_maintenance() -> str | None:
    """Return to normal once `until` has passed (beat runs this every 15 s); idempotent."""
    state = maintenance_expire()
    return None if state is None else state.mode
