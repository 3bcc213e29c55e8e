"""Reads of export jobs that carry a rule."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone

from exports.exceptions import ExportGone, ExportNotReady
from exports.formats import get_writer
from exports.models import SNAPSHOT, ExportJob, JobStatus


def export_job_list() -> QuerySet[ExportJob]:
    """Every job, newest first."""
    return ExportJob.objects.select_related("requested_by_user").order_by("-id")


def export_job_find_active_duplicate(
    *,
    job_type: str,
    format: str,
    filter_params: dict[str, Any],
    datasets: list[str],
    requested_by: str | None,
    user_id: int | None = None,
) -> ExportJob | None:
    """A pending or running job asking for exactly the same file for the same requester (name and user)."""
    candidates = ExportJob.objects.filter(
        job_type=job_type,
        format=format,
        requested_by=requested_by,
        requested_by_user_id=user_id,
        status__in=JobStatus.active(),
        cancel_requested=False,
    ).order_by("id")
    # JSON equality is compared in Python: both sides are canonical (sorted keys, string values).
    for job in candidates:
        if job.filter_params == filter_params and list(job.datasets) == datasets:
            return job
    return None


def export_job_download(*, job: ExportJob) -> tuple[Any, str, str]:
    """The job's file, open for reading, with its download name and content type.

    Only a completed job that has not expired and whose file is still stored can be read.
    """
    if job.status != JobStatus.COMPLETED:
        reason = {
            JobStatus.PENDING: "it is waiting for a worker",
            JobStatus.RUNNING: f"it is still running ({job.rows_written:,} rows written)",
            JobStatus.FAILED: f"it failed: {(job.error_message or 'no reason recorded').rstrip('.')}",
            JobStatus.CANCELLED: "it was cancelled",
        }[JobStatus(job.status)]
        raise ExportNotReady(f"Export {job.pk} has no file: {reason}.", status=job.status)
    if job.expires_at is not None and job.expires_at <= timezone.now():
        raise ExportGone(f"Export {job.pk} expired at {job.expires_at.isoformat()}; ask for a new export.")
    if not job.file or not default_storage.exists(job.file):
        raise ExportGone(f"Export {job.pk}'s file is no longer in storage (purged); ask for a new export.")
    content_type = "application/zip" if job.job_type == SNAPSHOT else get_writer(job.format).content_type
    return default_storage.open(job.file, "rb"), job.download_name, content_type
