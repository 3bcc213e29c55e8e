"""Celery beat's scheduler: the schedules in settings are created once, then the admin owns them.

django-celery-beat's own DatabaseScheduler writes CELERY_BEAT_SCHEDULE over the rows at
every start (update_or_create), so an interval or crontab changed under "Periodic tasks"
in the admin would come back to the code's value on the next deploy. Here an entry is
written only when no periodic task of that name exists; to stop one, disable it in the
admin (a deleted one is created again at the next start).
"""

from __future__ import annotations

import logging

from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from opsconsole import liveness

logger = logging.getLogger(__name__)


class Scheduler(DatabaseScheduler):
    """Also stamps each tick in the shared cache, so /health can tell a stopped beat (opsconsole/liveness.py)."""

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        try:
            liveness.beat_ticked()
        except Exception:  # noqa: BLE001 - a cache outage must not stop the schedule
            logger.warning("beat heartbeat not written", exc_info=True)
        return interval

    def update_from_dict(self, mapping):
        existing = set(PeriodicTask.objects.filter(name__in=list(mapping)).values_list("name", flat=True))
        super().update_from_dict({name: entry for name, entry in mapping.items() if name not in existing})
