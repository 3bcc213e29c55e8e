"""The exports panel of the dashboard: jobs running or queued, and the latest finished ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from exports.models import ExportJob, JobStatus
from opsconsole.dashboard import registry
from opsconsole.dashboard.links import admin_change_url_template, admin_changelist_url, change_url

# (To become JobStatus.active() / JobStatus.finished() once exports groups its statuses there.)
EXPORT_ACTIVE_STATUSES = [JobStatus.PENDING, JobStatus.RUNNING]
EXPORT_FINISHED_STATUSES = [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED]
EXPORT_LIMIT = 8
_EXPORT_FIELDS = [
    "id",
    "created_at",
    "started_at",
    "completed_at",
    "job_type",
    "format",
    "status",
    "requested_by",
    "rows_written",
    "total_rows",
    "file_size",
    "error_message",
]


def _export_row(job: ExportJob, url_template: str | None) -> dict[str, Any]:
    progress = job.progress
    return {
        "id": job.pk,
        "job_type": job.job_type,
        "format": job.format,
        "status": job.status,
        "status_label": job.get_status_display(),
        "requested_by": job.requested_by or "",
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "rows_written": job.rows_written,
        "total_rows": job.total_rows,
        "progress_pct": None if progress is None else round(100 * progress, 1),
        "file_size": job.file_size,
        "error_message": job.error_message or "",
        "url": change_url(url_template, job.pk),
        "download_url": job.download_path if job.status == JobStatus.COMPLETED else None,
    }


def exports_active(*, limit: int = EXPORT_LIMIT) -> list[dict[str, Any]]:
    """Pending and running export jobs, oldest first, with their progress."""
    url_template = admin_change_url_template(ExportJob)
    jobs = ExportJob.objects.filter(status__in=EXPORT_ACTIVE_STATUSES).only(*_EXPORT_FIELDS).order_by("id")[:limit]
    return [_export_row(job, url_template) for job in jobs]


def exports_recent(*, limit: int = EXPORT_LIMIT) -> list[dict[str, Any]]:
    """The latest finished export jobs (completed, failed or cancelled), newest first."""
    url_template = admin_change_url_template(ExportJob)
    jobs = ExportJob.objects.filter(status__in=EXPORT_FINISHED_STATUSES).only(*_EXPORT_FIELDS).order_by("-id")[:limit]
    return [_export_row(job, url_template) for job in jobs]


def exports_figures(*, now: datetime | None = None) -> dict[str, Any]:
    return {"exports_active": exports_active(), "exports_recent": exports_recent()}


@registry.register_links
def links() -> dict[str, str | None]:
    return {
        "exports": admin_changelist_url(ExportJob),
        "exports_running": admin_changelist_url(ExportJob, status__exact=JobStatus.RUNNING),
        "exports_failed": admin_changelist_url(ExportJob, status__exact=JobStatus.FAILED),
    }


registry.register(registry.Panel(name="exports", permission="exports.view_exportjob", figures=exports_figures))
