"""Reads of export jobs that carry a rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from exports.models import ExportJob, JobStatus

ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING)


def export_job_list() -> QuerySet[ExportJob]:
    """Every job, newest first."""
    return ExportJob.objects.select_related("requested_by_user").order_by("-id")


def export_job_find_active_duplicate(
    *, job_type: str, format: str, filter_params: dict[str, Any], datasets: list[str], requested_by: str | None
) -> ExportJob | None:
    """A pending or running job asking for exactly the same file for the same requester."""
    candidates = ExportJob.objects.filter(
        job_type=job_type, format=format, requested_by=requested_by, status__in=ACTIVE_STATUSES, cancel_requested=False
    ).order_by("id")
    # JSON equality is compared in Python: both sides are canonical (sorted keys, string values).
    for job in candidates:
        if job.filter_params == filter_params and list(job.datasets) == datasets:
            return job
    return None


def export_jobs_stale_running(*, heartbeat_before: datetime) -> QuerySet[ExportJob]:
    """Running jobs with no sign of life since `heartbeat_before`: their worker died."""
    return ExportJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=heartbeat_before).order_by("id")


def export_jobs_stale_pending(*, heartbeat_before: datetime) -> QuerySet[ExportJob]:
    """Pending jobs enqueued before `heartbeat_before` that no worker has picked up (a lost message)."""
    return ExportJob.objects.filter(status=JobStatus.PENDING, heartbeat_at__lt=heartbeat_before).order_by("id")
