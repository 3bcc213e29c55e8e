"""Live progress of export jobs in the admin: the list's and the job page's progress, status and
file cells carry the job's id, and exports/static/exports/job_progress.js refreshes them from
a small staff-only JSON endpoint while any job shown is pending or running. No page reload."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html

from exports.models import ExportJob, JobStatus

PROGRESS_JS = "exports/job_progress.js"

#: at most this many jobs per poll (a changelist page shows 100)
MAX_IDS = 200


def job_progress(job: ExportJob) -> dict[str, Any]:
    """What the progress cells show, as JSON."""
    share = job.progress
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": JobStatus(job.status).label,
        "percent": None if share is None else round(share * 100),
        "rows_written": job.rows_written,
        "total_rows": job.total_rows,
        "download_url": job.download_path if job.status == JobStatus.COMPLETED and job.file else None,
    }


class JobProgressMixin:
    """ExportJobAdmin's live columns (`status_live`, `progress_bar`, `download`) and their endpoint.

    The admin using it lists PROGRESS_JS in its Media."""

    def get_urls(self) -> list[Any]:
        progress = path(
            "progress/",
            self.admin_site.admin_view(self.progress_view),  # type: ignore[attr-defined]
            name="exports_exportjob_progress",
        )
        return [progress, *super().get_urls()]  # type: ignore[misc]

    def progress_view(self, request: Any) -> JsonResponse:
        """GET ?ids=1,2,3: those jobs' progress; staff with the view permission only."""
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        try:
            ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.strip()]
        except ValueError:
            return JsonResponse({"detail": "ids: a comma-separated list of job ids."}, status=400)
        if len(ids) > MAX_IDS:
            return JsonResponse({"detail": f"ids: at most {MAX_IDS} at a time."}, status=400)
        jobs = ExportJob.objects.filter(pk__in=ids).order_by("pk")
        return JsonResponse({"jobs": [job_progress(job) for job in jobs]})  # admin_view: never cached

    def _live(self, job: ExportJob, css: str, content: Any) -> str:
        return format_html(
            '<span class="{}" data-job="{}" data-status="{}" data-progress-url="{}">{}</span>',
            css,
            job.pk,
            job.status,
            reverse("admin:exports_exportjob_progress"),
            content,
        )

    @admin.display(description="status", ordering="status")
    def status_live(self, job: ExportJob) -> str:
        return self._live(job, "job-status", JobStatus(job.status).label)

    @admin.display(description="progress")
    def progress_bar(self, job: ExportJob) -> str:
        state = job_progress(job)
        if state["percent"] is None:
            content = format_html("{} rows", f"{job.rows_written:,}") if job.status == JobStatus.RUNNING else "—"
        else:
            content = format_html(
                '<progress value="{}" max="100" title="{} of {} rows"></progress> {}%',
                state["percent"],
                f"{job.rows_written:,}",
                f"{job.total_rows or job.rows_written:,}",
                state["percent"],
            )
        return self._live(job, "job-progress", content)

    @admin.display(description="download")
    def download(self, job: ExportJob) -> str:
        url = job_progress(job)["download_url"]
        return self._live(job, "job-download", format_html('<a href="{}">download</a>', url) if url else "—")
