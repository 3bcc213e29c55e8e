"""Every write to export jobs: create, cancel, run, recover."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from exports import conf, engine
from exports.exceptions import (
    DatasetForbidden,
    ExportCancelled,
    ExportFailed,
    ExportInterrupted,
    ExportsPaused,
    IllegalTransition,
    InvalidExportRequest,
)
from exports.formats import FORMATS, get_writer
from exports.models import SNAPSHOT, ExportJob, JobStatus
from exports.registry import Dataset, dataset_names, get_dataset
from exports.selectors import export_job_find_active_duplicate
from maintenance.selectors import current_mode, is_normal
from opsconsole import doorbell

logger = logging.getLogger(__name__)

CANCELLABLE = (JobStatus.PENDING, JobStatus.RUNNING)


def download_path(job_id: int) -> str:
    """The API path that serves a job's file (what `storage_url` holds)."""
    return f"/system/exports/{job_id}/download"


def download_name(job: ExportJob) -> str:
    """A file name that says what the file is: `notifications.outbox-42-20261126-084500.csv`."""
    stamp = (job.created_at or timezone.now()).strftime("%Y%m%d-%H%M%S")
    extension = "zip" if job.job_type == SNAPSHOT else get_writer(job.format).extension
    return f"{job.job_type}-{job.pk}-{stamp}.{extension}"


# --- create -----------------------------------------------------------------------------


def export_request_validate(
    *, job_type: Any, format: Any, filter_params: Any, datasets: Any
) -> tuple[str, str, dict[str, Any], list[str]]:
    """Check a request against the registries; return (job_type, format, filter_params, datasets) canonical."""
    errors: dict[str, list[str]] = {}
    if format not in FORMATS:
        errors["format"] = [f"Unknown format {format!r}. Known: {', '.join(FORMATS)}."]
    if not isinstance(job_type, str) or not job_type:
        errors["job_type"] = ["A dataset name or 'snapshot' is required."]
    if errors:
        raise InvalidExportRequest(f"Invalid input: {', '.join(sorted(errors))}.", fields=errors)

    if job_type != SNAPSHOT:
        dataset = _dataset_or_error(job_type, field_name="job_type")
        if datasets:
            raise InvalidExportRequest(
                "datasets is only for snapshots.",
                fields={"datasets": ["Only a 'snapshot' job takes a datasets list; this job exports job_type."]},
            )
        return job_type, format, dataset.validate_filters(filter_params), []

    if not isinstance(datasets, list) or not datasets or not all(isinstance(name, str) for name in datasets):
        raise InvalidExportRequest(
            "A snapshot needs datasets.",
            fields={"datasets": [f"A non-empty list of dataset names. Known: {', '.join(dataset_names())}."]},
        )
    unknown = sorted({name for name in datasets if name not in dataset_names()})
    if unknown:
        raise InvalidExportRequest(
            f"Unknown datasets: {', '.join(unknown)}.",
            fields={"datasets": [f"Unknown: {', '.join(unknown)}. Known: {', '.join(dataset_names())}."]},
        )
    if len(set(datasets)) != len(datasets):
        raise InvalidExportRequest("Duplicate datasets.", fields={"datasets": ["Each dataset may appear once."]})
    filter_params = filter_params or {}
    if not isinstance(filter_params, dict):
        raise InvalidExportRequest(
            "filter_params must be an object.",
            fields={"filter_params": ["For a snapshot: an object of {dataset name: {filters}}."]},
        )
    stray = sorted(set(filter_params) - set(datasets))
    if stray:
        raise InvalidExportRequest(
            f"filter_params names datasets not in the snapshot: {', '.join(stray)}.",
            fields={f"filter_params.{name}": ["Not one of this snapshot's datasets."] for name in stray},
        )
    canonical: dict[str, Any] = {}
    for name in sorted(filter_params):
        canonical[name] = get_dataset(name).validate_filters(filter_params[name], field_name=f"filter_params.{name}")
    return SNAPSHOT, format, canonical, list(datasets)


def _dataset_or_error(name: str, *, field_name: str) -> Dataset:
    return get_dataset(name, field_name=field_name)


UNREGISTERED_PERMISSION = "exports.view_unregistered_dataset"


def export_datasets_check_permission(*, user: Any, job_type: str, datasets: list[str]) -> None:
    """An export shows rows of its datasets: the user must be allowed to view each of them.

    Without this, `add_exportjob` alone would read channels, outbox bodies or the admin log
    that the same user cannot list. `user=None` (the command line, a worker) is trusted.
    """
    if user is None:
        return
    names = datasets if job_type == SNAPSHOT else [job_type]
    known = set(dataset_names())
    # A dataset no longer registered (an old job's) can no longer be checked: superusers only.
    needs = {name: get_dataset(name).view_permission if name in known else UNREGISTERED_PERMISSION for name in names}
    refused = [name for name, permission in needs.items() if not user.has_perm(permission)]
    if refused:
        needed = ", ".join(needs[name] for name in refused)
        raise DatasetForbidden(
            f"You may not export {', '.join(refused)}: it needs the permission {needed}.",
            fields={"job_type" if job_type != SNAPSHOT else "datasets": [f"Needs {needed}."]},
        )


@transaction.atomic
def export_job_create(
    *,
    job_type: Any,
    format: Any = "csv",
    filter_params: Any = None,
    datasets: Any = None,
    user: Any = None,
    requested_by: str | None = None,
    note: str = "",
) -> tuple[ExportJob, bool]:
    """Validate and record a job, or return the identical pending/running one; `(job, created)`.

    `requested_by` is who asked, never what a client claims: the authenticated `user`'s
    username. Only a caller with no user (the export command, a worker) names the requester
    itself. Free text from the requester goes in `note`, which is not part of a job's identity.
    The worker is enqueued when the transaction commits.
    """
    job_type, format, filter_params, datasets = export_request_validate(
        job_type=job_type, format=format, filter_params=filter_params, datasets=datasets
    )
    if not getattr(user, "is_authenticated", False):
        user = None
    if user is not None:
        if requested_by is not None:
            raise ValueError("requested_by is the user's username; pass free text as note")
        requested_by = user.get_username()
    export_datasets_check_permission(user=user, job_type=job_type, datasets=datasets)
    if not is_normal():  # the shield refuses the API and the admin; this covers every other caller
        raise ExportsPaused(current_mode())
    _lock_identical_requests(job_type, format, filter_params, datasets, requested_by, user)
    existing = export_job_find_active_duplicate(
        job_type=job_type,
        format=format,
        filter_params=filter_params,
        datasets=datasets,
        requested_by=requested_by,
        user_id=user.pk if user is not None else None,
    )
    if existing is not None:
        return existing, False
    job = ExportJob(
        job_type=job_type,
        format=format,
        filter_params=filter_params,
        datasets=datasets,
        requested_by=requested_by,
        requested_by_user=user,
        note=note,
        heartbeat_at=timezone.now(),
    )
    job.full_clean()
    job.save()
    _enqueue_on_commit(job.pk)
    return job, True


def _lock_identical_requests(*identity: Any) -> None:
    """Serialise identical create requests until the transaction ends, so the duplicate check
    sees the other's job. PostgreSQL: a transaction advisory lock on a hash of the request
    (READ COMMITTED would let two concurrent requests both find no duplicate). SQLite needs
    nothing: its IMMEDIATE transactions already run writers one at a time."""
    if connection.vendor != "postgresql":
        return
    *request, user = identity
    key = json.dumps([*request, getattr(user, "pk", None)], sort_keys=True, default=str)
    digest = hashlib.blake2b(f"exports.create:{key}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])


def _enqueue_on_commit(job_id: int) -> None:
    # A doorbell (opsconsole/doorbell.py): never waits on the broker; a job whose message is
    # lost stays pending and the stale-job sweep sends it again.
    transaction.on_commit(lambda: doorbell.ring("exports.tasks.run_export", job_id))


# --- cancel -----------------------------------------------------------------------------


@transaction.atomic
def export_job_cancel(*, job: ExportJob) -> ExportJob:
    """Cancel a pending or running job; a running worker stops at its next progress check."""
    locked = ExportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status not in CANCELLABLE:
        raise IllegalTransition(
            f"Job {locked.pk} is {locked.status}; only pending or running jobs can be cancelled.",
            fields={"status": [f"Cannot change {locked.status} to cancelled."]},
        )
    now = timezone.now()
    locked.status = JobStatus.CANCELLED
    locked.cancel_requested = True
    locked.completed_at = now
    locked.error_message = None
    locked.save(update_fields=["status", "cancel_requested", "completed_at", "error_message", "updated_at"])
    return locked


def export_job_set_status(*, job: ExportJob, status: Any) -> ExportJob:
    """The status endpoint: only `cancelled` may be asked for, and only from pending or running."""
    if status not in JobStatus.values:
        raise InvalidExportRequest(
            "Unknown status.", fields={"status": [f"Unknown status {status!r}. Known: {', '.join(JobStatus.values)}."]}
        )
    if status != JobStatus.CANCELLED:
        raise IllegalTransition(
            f"Job {job.pk} cannot be set to {status}; clients may only cancel a job.",
            fields={"status": [f"Cannot change {job.status} to {status}; only 'cancelled' may be requested."]},
        )
    return export_job_cancel(job=job)


# --- run --------------------------------------------------------------------------------


def _claim(job_id: int) -> int | None:
    """Move a pending job to running; return this attempt's number (None: not pending)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = ExportJob.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            rows_written=0,
            error_message=None,
            updated_at=now,
        )
        if not claimed:
            return None
        return ExportJob.objects.filter(pk=job_id).values_list("attempts", flat=True).get()


class _Attempt:
    """Writes of one attempt at a job, fenced by its attempt number.

    If the job was re-queued (its worker looked dead) and claimed again, this attempt's
    writes match no row: a slow worker can never finish or overwrite a newer attempt.
    """

    def __init__(self, job_id: int, number: int) -> None:
        self.job_id = job_id
        self.number = number

    def _mine(self) -> QuerySet[ExportJob]:
        return ExportJob.objects.filter(pk=self.job_id, status=JobStatus.RUNNING, attempts=self.number)

    def flush(self, rows: int) -> bool:
        now = timezone.now()
        return bool(
            self._mine().filter(cancel_requested=False).update(rows_written=rows, heartbeat_at=now, updated_at=now)
        )

    def beat(self) -> bool:
        """A sign of life; False once this attempt no longer owns the job (finished, cancelled, superseded)."""
        return bool(self._mine().update(heartbeat_at=timezone.now()))

    def set_total(self, total: int) -> None:
        self._mine().update(total_rows=total, heartbeat_at=timezone.now())

    def requeue(self) -> bool:
        now = timezone.now()
        return bool(
            self._mine().update(
                status=JobStatus.PENDING, started_at=None, rows_written=0, heartbeat_at=now, updated_at=now
            )
        )

    def finish(self, status: str, *, now: Any = None, **fields: Any) -> bool:
        now = now or timezone.now()
        return bool(self._mine().update(status=status, completed_at=now, updated_at=now, heartbeat_at=now, **fields))


class _Heartbeat:
    """Write the attempt's heartbeat from a thread while the worker lives.

    Progress writes are a heartbeat too, but only when rows move: a long COUNT, a COPY whose
    filter skips millions of rows, a zip of big files or a slow upload to storage would look
    dead. The thread goes quiet only when the process dies (or the attempt no longer owns
    the job), which is what the stale-job sweep looks for.
    """

    def __init__(self, attempt: _Attempt) -> None:
        self.attempt = attempt
        # A floor, so a tiny STALE_SECONDS cannot turn the thread into a busy loop of row updates.
        self.interval = max(0.05, min(float(conf.get("HEARTBEAT_SECONDS")), float(conf.get("STALE_SECONDS")) / 4))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"export-{attempt.job_id}-heartbeat", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not self.attempt.beat():
                        return
                except DatabaseError as exc:  # a blip: the next beat tries again, the sweep waits STALE_SECONDS
                    logger.warning("export %s: heartbeat not written: %s", self.attempt.job_id, exc)
                    close_old_connections()
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def export_job_run(*, job_id: int, force_generic: bool = False) -> ExportJob | None:
    """Write the job's file and store it; safe to call twice (only a pending job is claimed).

    Expected failures (row cap, format limits, time limit) end the job `failed` with a
    message; any other error does too and is re-raised for the worker's log. Temp and
    partial files are removed whatever happens.
    """
    if not is_normal():
        # No writes while read-only; the job stays pending and the stale-job sweep sends it
        # again once the mode is back to normal.
        logger.info("export %s left pending: maintenance mode is %s", job_id, current_mode())
        return None
    number = _claim(job_id)
    if number is None:
        logger.info("export %s is not pending; nothing to do", job_id)
        return None
    attempt = _Attempt(job_id, number)
    with _Heartbeat(attempt):
        return _run_attempt(attempt, force_generic=force_generic)


def _run_attempt(attempt: _Attempt, *, force_generic: bool) -> ExportJob:
    job_id, number = attempt.job_id, attempt.number
    job = ExportJob.objects.get(pk=job_id)
    progress = engine.Progress(job.pk, on_flush=attempt.flush, attempt=number)
    temp_files: list[Path] = []
    stored_name = ""
    try:
        with engine.read_snapshot() as conn:
            if job.job_type == SNAPSHOT:
                entries = [(get_dataset(name), job.filter_params.get(name, {})) for name in job.datasets]
                totals = [engine.count_rows(conn, dataset, params) for dataset, params in entries]
                engine.check_row_cap(sum(totals), what=f"The snapshot of {', '.join(job.datasets)}")
                attempt.set_total(sum(totals))
                written = engine.write_snapshot(
                    conn, entries, job.format, progress, totals=totals, job_id=job.pk, temp_files=temp_files
                )
            else:
                dataset = get_dataset(job.job_type)
                total = engine.count_rows(conn, dataset, job.filter_params)
                engine.check_row_cap(total, what=dataset.name)
                attempt.set_total(total)
                written = engine.write_dataset(
                    conn, dataset, job.filter_params, job.format, progress, total=total, force_generic=force_generic
                )
                temp_files.append(written.path)
        progress.report(written.rows, force=True)
        stored_name = _store(job, written.path)
        completed_at = timezone.now()
        done = attempt.finish(
            JobStatus.COMPLETED,
            now=completed_at,
            file=stored_name,
            file_size=written.size,
            sha256=written.sha256,
            rows_written=written.rows,
            total_rows=written.rows,
            storage_url=download_path(job.pk),
            expires_at=completed_at + timedelta(days=int(conf.get("EXPIRE_DAYS"))),
        )
        if not done:
            # Cancelled (or superseded) since the last check: the stored file must not outlive the job.
            raise ExportCancelled("The job was cancelled.")
    except ExportCancelled:
        _remove_stored(stored_name)
        attempt.finish(JobStatus.CANCELLED, cancel_requested=True)
        logger.info("export %s cancelled; partial file removed", job.pk)
    except ExportFailed as exc:
        _remove_stored(stored_name)
        attempt.finish(JobStatus.FAILED, error_message=str(exc))
        logger.warning("export %s failed: %s", job.pk, exc)
    except SoftTimeLimitExceeded:
        _remove_stored(stored_name)
        limit = conf.get("SOFT_TIME_LIMIT")
        attempt.finish(JobStatus.FAILED, error_message=f"The export took longer than its time limit of {limit} s.")
        logger.warning("export %s hit its time limit", job.pk)
    except (OperationalError, InterfaceError) as exc:
        # The database went away (restart, failover, network): worth another try, not a failure.
        _remove_stored(stored_name)
        if number < int(conf.get("MAX_ATTEMPTS")) and _requeue_after_interruption(attempt):
            raise ExportInterrupted(f"Export {job_id} interrupted by a database error: {exc}") from exc
        attempt.finish(JobStatus.FAILED, error_message=f"Database error while exporting: {type(exc).__name__}: {exc}")
        raise
    except Exception as exc:
        _remove_stored(stored_name)
        attempt.finish(JobStatus.FAILED, error_message=f"Internal error while exporting: {type(exc).__name__}: {exc}")
        raise
    finally:
        for path in temp_files:
            path.unlink(missing_ok=True)
    return ExportJob.objects.get(pk=job.pk)


def _requeue_after_interruption(attempt: _Attempt) -> bool:
    """Put the job back to pending for the task's retry; False if the database is still away
    (then the stale-job sweep re-queues it once the job's heartbeat is old)."""
    close_old_connections()
    try:
        return bool(
            attempt._mine().update(
                status=JobStatus.PENDING, started_at=None, rows_written=0, heartbeat_at=timezone.now()
            )
        )
    except (OperationalError, InterfaceError):
        return False


class _TempFile(File):
    """A finished temp file: FileSystemStorage moves it into place instead of copying it."""

    def temporary_file_path(self) -> str:
        return cast(str, self.name)  # always set: made from a path


def _store(job: ExportJob, path: Path) -> str:
    name = f"exports/{job.pk}/{download_name(job)}"
    with open(path, "rb") as handle:
        return default_storage.save(name, _TempFile(handle, name=str(path)))


def _remove_stored(name: str) -> None:
    if name:
        delete_stored_file(name)


def delete_stored_file(name: str) -> None:
    """Delete a job's file and, on a local file system, its folder once empty (exports/<id>/)."""
    default_storage.delete(name)
    try:
        folder = os.path.dirname(default_storage.path(name))
    except NotImplementedError:  # object storage: no folders to leave behind
        return
    with contextlib.suppress(OSError):  # not empty, or already gone
        os.rmdir(folder)


# --- recover ----------------------------------------------------------------------------


def export_jobs_recover_stale() -> dict[str, int]:
    """Re-queue jobs whose worker died (or whose message was lost); fail them after MAX_ATTEMPTS.

    Nothing is lost: a re-queued job starts again from the beginning with a new file.
    """
    if not is_normal():
        return {"requeued": 0, "failed": 0, "resent": 0}  # it writes; it resumes with the mode
    stale_seconds = float(conf.get("STALE_SECONDS"))
    max_attempts = int(conf.get("MAX_ATTEMPTS"))
    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    with transaction.atomic():
        stale = list(
            ExportJob.objects.select_for_update(skip_locked=True)
            .filter(status=JobStatus.RUNNING)
            .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        )
        now = timezone.now()
        for job in stale:
            # Before the commit that lets a new attempt claim the job: only the dead ones' files go.
            _remove_partials(job.pk)
            if job.attempts >= max_attempts:
                job.status = JobStatus.FAILED
                job.completed_at = now
                job.error_message = (
                    f"The worker stopped responding (no progress for {stale_seconds:.0f} s) "
                    f"{job.attempts} times; giving up."
                )
                counts["failed"] += 1
            else:
                job.status = JobStatus.PENDING
                job.started_at = None
                job.rows_written = 0
                job.error_message = None
                counts["requeued"] += 1
                _enqueue_on_commit(job.pk)
            job.heartbeat_at = now
            job.save(
                update_fields=[
                    "status",
                    "completed_at",
                    "error_message",
                    "started_at",
                    "rows_written",
                    "heartbeat_at",
                    "updated_at",
                ]
            )
        lost = list(
            ExportJob.objects.select_for_update(skip_locked=True)
            .filter(status=JobStatus.PENDING)
            .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
            .exclude(pk__in=[job.pk for job in stale])
        )
        for job in lost:
            job.heartbeat_at = now
            job.save(update_fields=["heartbeat_at", "updated_at"])
            _enqueue_on_commit(job.pk)
            counts["resent"] += 1
    if any(counts.values()):
        logger.warning("stale exports recovered: %s", counts)
    export_temp_files_remove_orphans()
    return counts


def _remove_partials(job_id: int) -> None:
    """Remove what the dead attempts of an unfinished job left: temp files on this machine, and
    anything under the job's storage folder (a file is recorded on the job only once complete,
    so whatever is there was cut off mid-store)."""
    removed = []
    for path in _local_temp_files():
        if _temp_file_owner(path)[0] == job_id:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    folder = f"exports/{job_id}"
    try:
        names = default_storage.listdir(folder)[1]
    except (FileNotFoundError, NotImplementedError):
        names = []
    for name in names:
        delete_stored_file(f"{folder}/{name}")
        removed.append(f"{folder}/{name}")
    if removed:
        logger.warning("export %s: removed partial files of its dead worker: %s", job_id, ", ".join(removed))


def _local_temp_files() -> list[Path]:
    return [path for path in engine.temp_dir().iterdir() if path.is_file()]


def _temp_file_owner(path: Path) -> tuple[int | None, int | None]:
    match = engine.TEMP_NAME.match(path.name)
    return (int(match["job"]), int(match["attempt"])) if match else (None, None)


def export_temp_files_remove_orphans() -> int:
    """Remove temp files in this machine's export temp folder that no live attempt is writing.

    A file is live while its job is running under the attempt that named it; any other was
    left by a worker that died (SIGKILL, OOM, a power cut). Files not named after an attempt
    are removed once older than STALE_SECONDS. Runs at worker start and with every stale-job sweep.
    """
    files = _local_temp_files()
    if not files:
        return 0
    live = set(ExportJob.objects.filter(status=JobStatus.RUNNING).values_list("pk", "attempts"))
    too_old = time.time() - float(conf.get("STALE_SECONDS"))
    removed = 0
    for path in files:
        owner = _temp_file_owner(path)
        if owner in live:
            continue
        try:
            if owner == (None, None) and path.stat().st_mtime > too_old:
                continue
            path.unlink()
        except FileNotFoundError:  # its attempt finished and removed it meanwhile
            continue
        removed += 1
    if removed:
        logger.warning("removed %s orphaned export temp file(s) from %s", removed, engine.temp_dir())
    return removed


# --- expire -----------------------------------------------------------------------------


def export_files_delete_expired(*, now: Any = None, batch_size: int = 500) -> dict[str, int]:
    """Delete the stored files of completed jobs past `expires_at`; the job rows stay as history.

    Downloads of such a job already answer 410; this frees the storage without waiting for
    the retention purge of `exports.jobs`, which keeps the rows (30 days by default) much
    longer than the files (EXPIRE_DAYS). The file goes before the row forgets it, so a crash
    in between leaves a row whose missing file the next sweep skips.
    """
    now = now or timezone.now()
    counts = {"deleted": 0, "missing": 0}
    while True:
        batch = list(
            ExportJob.objects.filter(status=JobStatus.COMPLETED, expires_at__lte=now)
            .exclude(file="")
            .order_by("pk")
            .values_list("pk", "file")[:batch_size]
        )
        if not batch:
            break
        for _pk, name in batch:
            if default_storage.exists(name):
                delete_stored_file(name)
                counts["deleted"] += 1
            else:
                counts["missing"] += 1
        ExportJob.objects.filter(pk__in=[pk for pk, _name in batch]).update(file="", updated_at=timezone.now())
    if any(counts.values()):
        logger.info("expired export files removed: %s", counts)
    return counts


# --- delete -----------------------------------------------------------------------------


@transaction.atomic
def export_job_delete(*, job: ExportJob) -> None:
    """Delete a job and its file (the file goes once the row is gone for good)."""
    name = job.file
    job.delete()
    if name:
        transaction.on_commit(lambda: delete_stored_file(name))
