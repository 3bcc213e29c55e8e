"""Runs left 'running' by a purge whose process died: marked failed, never left to look alive."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.utils import timezone

from maintenance.exceptions import WritesBlocked
from maintenance.guards import refuse_writes_unless_normal
from retention.exceptions import PurgeLocked
from retention.locks import purge_lock
from retention.models import PurgeRun, PurgeStatus

logger = logging.getLogger(__name__)

INTERRUPTED = "Interrupted: the purging process stopped before it finished; a rerun continues where it stopped."


def purge_runs_fail_running(*, exclude: Iterable[int] = ()) -> int:
    """Fail every 'running' run but `exclude`; call only while holding the purge lock, which
    proves that no other purge is running, so those runs lost their process.

    `deleted` is left as it is: each batch recorded its count in the transaction that
    deleted its rows, so it is exactly what the dead purge deleted.
    """
    now = timezone.now()
    failed = 0
    for run in PurgeRun.objects.filter(status=PurgeStatus.RUNNING).exclude(pk__in=list(exclude)):
        error = f"{INTERRUPTED} {run.deleted:,} rows had been deleted."
        failed += PurgeRun.objects.filter(pk=run.pk, status=PurgeStatus.RUNNING).update(
            status=PurgeStatus.FAILED, error=error, finished_at=now
        )
    return failed


def purge_runs_fail_interrupted() -> int:
    """Periodic sweep: mark the runs of a purge whose process died as failed; return how many.

    A run is dead when it says 'running' while the purge lock is free (PostgreSQL: nobody
    holds the advisory lock, whose session ended with the process; SQLite: the lock row has
    expired or its holder process is gone). The lock is taken only when some run claims to
    be running, and held for this one update; while a live purge holds it nothing changes.
    Outside normal mode the sweep does nothing (it writes) and catches up afterwards.
    """
    try:
        refuse_writes_unless_normal()
    except WritesBlocked:
        return 0
    if not PurgeRun.objects.filter(status=PurgeStatus.RUNNING).exists():
        return 0
    try:
        with purge_lock():
            failed = purge_runs_fail_running()
    except PurgeLocked:
        return 0  # a purge is alive; its runs are its own
    if failed:
        logger.warning("%s purge run(s) left running by a process that died were marked failed", failed)
    return failed
