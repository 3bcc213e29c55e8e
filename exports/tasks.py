"""Celery transport for exports: take an id, call a service."""

from __future__ import annotations

from celery import Task, shared_task

from exports import services
from exports.conf import exports_settings
from exports.exceptions import ExportInterrupted


class ExportTask(Task):
    """The time limits are read from EXPORTS when asked for, not when this module is imported.

    A worker asks when it starts consuming (Celery builds each task's request class then),
    so it uses the settings in force at its start; tests and `override_settings` see the
    current values. A limit set by `celery control time_limit` wins until the worker restarts.
    """

    _overrides: dict[str, float | None]

    def _limit(self, name: str) -> float:
        override = getattr(self, "_overrides", {}).get(name)
        return override if override is not None else exports_settings.get(name.upper())

    @property
    def soft_time_limit(self) -> float:
        return self._limit("soft_time_limit")

    @soft_time_limit.setter
    def soft_time_limit(self, value: float | None) -> None:
        self._overrides = {**getattr(self, "_overrides", {}), "soft_time_limit": value}

    @property
    def time_limit(self) -> float:
        return self._limit("time_limit")

    @time_limit.setter
    def time_limit(self, value: float | None) -> None:
        self._overrides = {**getattr(self, "_overrides", {}), "time_limit": value}


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
