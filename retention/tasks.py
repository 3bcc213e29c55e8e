"""Celery transport for purges: take ids, call the service. No purge logic here."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from retention import services
from retention.exceptions import PurgeRefused

logger = logging.getLogger(__name__)

# A purge of a huge backlog is long but bounded by MAX_SECONDS when set; the hard limit
# only catches a hung worker. Killed mid-batch, the batch rolls back and a rerun resumes.
PURGE_TIME_LIMIT = 6 * 3600


@shared_task(
    name="retention.tasks.purge_scheduled",
    acks_late=True,
    time_limit=PURGE_TIME_LIMIT,
    soft_time_limit=PURGE_TIME_LIMIT - 60,
)
def purge_scheduled() -> dict[str, Any]:
    """The daily purge of every policy (celery beat, editable in django-celery-beat's admin)."""
    result = services.purge_scheduled()
    if result is None:
        return {"ok": False, "refused": True}
    return result.as_dict()


@shared_task(
    name="retention.tasks.purge_queued_runs",
    acks_late=True,
    time_limit=PURGE_TIME_LIMIT,
    soft_time_limit=PURGE_TIME_LIMIT - 60,
)
def purge_queued_runs(run_ids: list[int]) -> dict[str, Any]:
    """Carry out runs queued by the API or the admin; runs already taken are left alone.

    Not retried: a refusal (maintenance mode, lock held) is recorded on the runs, and the
    daily schedule purges whatever is left.
    """
    try:
        return services.purge_execute(run_ids=list(run_ids)).as_dict()
    except PurgeRefused as exc:
        logger.warning("queued purge runs %s refused: %s", run_ids, exc.detail)
        return {"ok": False, "refused": exc.detail}


@shared_task(name="retention.tasks.fail_interrupted_runs", acks_late=True, soft_time_limit=50, time_limit=60)
def fail_interrupted_runs() -> int:
    """Beat, every minute: runs left 'running' by a purge whose process died are marked failed."""
    return services.purge_runs_fail_interrupted()
