"""The worker side of a job: claim it, write its file, store it, end the attempt.

Expected failures (row cap, format limits, time limit) end the job `failed` with a
message; a lost database puts it back to pending for the task's retry; any other error
ends it `failed` too and is re-raised for the worker's log. Temp and partial files are
removed whatever happens.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.utils import timezone

from exports import engine
from exports.conf import exports_settings
from exports.exceptions import ExportCancelled, ExportFailed, ExportInterrupted, UnknownDataset
from exports.metrics import export_rows_count
from exports.models import SNAPSHOT, ExportJob, JobStatus
from exports.registry import get_dataset
from exports.services.attempt import Attempt, Heartbeat, export_job_claim
from exports.services.files import delete_stored_file, export_file_store
from maintenance.exceptions import WritesBlocked
from maintenance.guards import refuse_writes_unless_normal

logger = logging.getLogger(__name__)


def export_job_run(*, job_id: int, force_generic: bool = False) -> ExportJob | None:
    """Write the job's file and store it; safe to call twice (only a pending job is claimed)."""
    try:
        refuse_writes_unless_normal()
    except WritesBlocked as blocked:
        # No writes while read-only; the job stays pending and the stale-job sweep sends it
        # again once the mode is back to normal.
        logger.info("export %s left pending: maintenance mode is %s", job_id, blocked.mode)
        return None
    number = export_job_claim(job_id)
    if number is None:
        logger.info("export %s is not pending; nothing to do", job_id)
        return None
    attempt = Attempt(job_id, number)
    with Heartbeat(attempt):
        return _run_attempt(attempt, force_generic=force_generic)


def _run_attempt(attempt: Attempt, *, force_generic: bool) -> ExportJob:
    job = ExportJob.objects.get(pk=attempt.job_id)
    temp_files: list[Path] = []
    try:
        written = _write_file(job, attempt, temp_files, force_generic=force_generic)
        _complete(job, attempt, written)
    except ExportCancelled:
        attempt.finish(JobStatus.CANCELLED, cancel_requested=True)
        logger.info("export %s cancelled; partial file removed", job.pk)
    except ExportFailed as exc:
        attempt.finish(JobStatus.FAILED, error_message=str(exc))
        logger.warning("export %s failed: %s", job.pk, exc)
    except SoftTimeLimitExceeded:
        limit = exports_settings.SOFT_TIME_LIMIT
        attempt.finish(JobStatus.FAILED, error_message=f"The export took longer than its time limit of {limit} s.")
        logger.warning("export %s hit its time limit", job.pk)
    except (OperationalError, InterfaceError) as exc:
        # The database went away (restart, failover, network): worth another try, not a failure.
        if attempt.number < int(exports_settings.MAX_ATTEMPTS) and _requeue_after_interruption(attempt):
            raise ExportInterrupted(f"Export {job.pk} interrupted by a database error: {exc}") from exc
        attempt.finish(JobStatus.FAILED, error_message=f"Database error while exporting: {type(exc).__name__}: {exc}")
        raise
    except Exception as exc:
        attempt.finish(JobStatus.FAILED, error_message=f"Internal error while exporting: {type(exc).__name__}: {exc}")
        raise
    finally:
        for path in temp_files:
            path.unlink(missing_ok=True)
    return ExportJob.objects.get(pk=job.pk)


def _write_file(job: ExportJob, attempt: Attempt, temp_files: list[Path], *, force_generic: bool) -> engine.WrittenFile:
    """Count, check the row cap and write the job's file in one consistent read; temp files land in `temp_files`."""
    progress = engine.Progress(job.pk, on_flush=attempt.flush, attempt=attempt.number)
    names = job.datasets if job.job_type == SNAPSHOT else [job.job_type]
    try:
        datasets = {name: get_dataset(name) for name in names}
    except UnknownDataset as exc:  # a source table unregistered since the job was created
        raise ExportFailed(f"{exc.detail} Nothing was written.") from exc
    with engine.read_snapshots(dataset.using for dataset in datasets.values()) as conns:
        if job.job_type == SNAPSHOT:
            entries = [(datasets[name], job.filter_params.get(name, {})) for name in job.datasets]
            totals = [engine.count_rows(conns[dataset.using], dataset, params) for dataset, params in entries]
            engine.check_row_cap(sum(totals), what=f"The snapshot of {', '.join(job.datasets)}")
            attempt.set_total(sum(totals))
            written = engine.write_snapshot(
                conns, entries, job.format, progress, totals=totals, job_id=job.pk, temp_files=temp_files
            )
        else:
            dataset = datasets[job.job_type]
            conn = conns[dataset.using]
            total = engine.count_rows(conn, dataset, job.filter_params)
            engine.check_row_cap(total, what=dataset.name)
            attempt.set_total(total)
            written = engine.write_dataset(
                conn, dataset, job.filter_params, job.format, progress, total=total, force_generic=force_generic
            )
            temp_files.append(written.path)
    progress.report(written.rows, force=True)
    return written


def _complete(job: ExportJob, attempt: Attempt, written: engine.WrittenFile) -> None:
    """Store the file and mark the attempt completed; the stored file never outlives a failed finish."""
    stored_name = export_file_store(job, written.path)
    try:
        completed_at = timezone.now()
        with transaction.atomic():
            done = attempt.finish(
                JobStatus.COMPLETED,
                now=completed_at,
                file=stored_name,
                file_size=written.size,
                sha256=written.sha256,
                rows_written=written.rows,
                total_rows=written.rows,
                storage_url=job.download_path,
                expires_at=completed_at + timedelta(days=int(exports_settings.EXPIRE_DAYS)),
            )
            if done:
                export_rows_count(written.rows)
        if not done:
            # Cancelled (or superseded) since the last check: the stored file must not outlive the job.
            raise ExportCancelled("The job was cancelled.")
    except BaseException:
        delete_stored_file(stored_name)
        raise


def _requeue_after_interruption(attempt: Attempt) -> bool:
    """Put the job back to pending for the task's retry; False if the database is still away
    (then the stale-job sweep re-queues it once the job's heartbeat is old)."""
    close_old_connections()
    try:
        return attempt.requeue()
    except (OperationalError, InterfaceError):
        return False
