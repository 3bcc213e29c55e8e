"""Recovering from dead workers: re-queue (or fail) their jobs, resend lost messages, and
remove the temp and partial files they left."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import exports.services.enqueue as enqueue
from exports import engine
from exports.conf import exports_settings
from exports.models import ExportJob, JobStatus
from exports.services.attempt import export_jobs_back_to_pending
from exports.services.files import delete_stored_file
from maintenance.exceptions import WritesBlocked
from maintenance.guards import refuse_writes_unless_normal

logger = logging.getLogger(__name__)


def export_jobs_recover_stale() -> dict[str, int]:
    """Re-queue jobs whose worker died (or whose message was lost); fail them after MAX_ATTEMPTS.

    Nothing is lost: a re-queued job starts again from the beginning with a new file.
    Outside normal mode the sweep does nothing (it writes); it resumes with the mode.
    """
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    try:
        refuse_writes_unless_normal()
    except WritesBlocked:
        return counts
    cutoff = timezone.now() - timedelta(seconds=float(exports_settings.STALE_SECONDS))
    with transaction.atomic():
        stale = _recover_dead_attempts(cutoff, counts)
        counts["resent"] = _resend_lost_messages(cutoff, exclude=stale)
    if any(counts.values()):
        logger.warning("stale exports recovered: %s", counts)
    export_temp_files_remove_orphans()
    return counts


def _recover_dead_attempts(cutoff: datetime, counts: dict[str, int]) -> list[int]:
    """Running jobs silent since `cutoff`: back to pending, or failed once out of attempts; their ids."""
    stale_seconds = float(exports_settings.STALE_SECONDS)
    max_attempts = int(exports_settings.MAX_ATTEMPTS)
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
            ExportJob.objects.filter(pk=job.pk).update(
                status=JobStatus.FAILED,
                completed_at=now,
                heartbeat_at=now,
                updated_at=now,
                error_message=(
                    f"The worker stopped responding (no progress for {stale_seconds:.0f} s) "
                    f"{job.attempts} times; giving up."
                ),
            )
            counts["failed"] += 1
        else:
            export_jobs_back_to_pending(ExportJob.objects.filter(pk=job.pk))
            enqueue.export_job_enqueue(job.pk)
            counts["requeued"] += 1
    return [job.pk for job in stale]


def _resend_lost_messages(cutoff: datetime, *, exclude: list[int]) -> int:
    """Pending jobs no worker picked up since `cutoff` (a lost message): ring again; how many."""
    lost = list(
        ExportJob.objects.select_for_update(skip_locked=True)
        .filter(status=JobStatus.PENDING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
        .exclude(pk__in=exclude)
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    ExportJob.objects.filter(pk__in=lost).update(heartbeat_at=now, updated_at=now)
    for job_id in lost:
        enqueue.export_job_enqueue(job_id)
    return len(lost)


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
    too_old = time.time() - float(exports_settings.STALE_SECONDS)
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
