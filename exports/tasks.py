"""Celery transport for exports: take an id, call a service."""

from __future__ import annotations

from celery import Task, shared_task

from exports import services
from exports.conf import exports_settings
from exports.exceptions import ExportInterrupted


class ExportTask(Task):
    """The time limits come from EXPORTS when a worker starts a job, not when this module is imported.

    Celery's worker reads `task.soft_time_limit`/`task.time_limit` for each request that
    carries no limits of its own, so `override_settings` and the settings in force apply.
    """

    @property
    def soft_time_limit(self) -> float:
        return exports_settings.SOFT_TIME_LIMIT

    @property
    def time_limit(self) -> float:
        return exports_settings.TIME_LIMIT


@shared_task(
    base=ExportTask,
    name="exports.tasks.run_export",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # A database error mid-export puts the job back to pending; retry it after a pause.
    autoretry_for=(ExportInterrupted,),
    retry_backoff=10,
    retry_backoff_max=300,
    max_retries=5,
)
def run_export(job_id: int) -> None:
    """Write one export job's file (a job that is not pending is left alone)."""
    services.export_job_run(job_id=job_id)


@shared_task(name="exports.tasks.recover_stale_jobs", acks_late=True, soft_time_limit=50, time_limit=60)
def recover_stale_jobs() -> dict[str, int]:
    """Beat, every 15 s: re-queue jobs left running by a dead worker, fail them after MAX_ATTEMPTS,
    and remove the temp files that dead workers left on this machine."""
    return services.export_jobs_recover_stale()


@shared_task(name="exports.tasks.delete_expired_files", acks_late=True, soft_time_limit=240, time_limit=300)
def delete_expired_files() -> dict[str, int]:
    """Beat, every 15 min: remove the files of expired exports (the job rows stay)."""
    return services.export_files_delete_expired()
