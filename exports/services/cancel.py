"""Cancelling a job: the only status change a client may ask for."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from exports.exceptions import IllegalTransition, InvalidExportRequest
from exports.models import ExportJob, JobStatus
from maintenance.guards import writes_guarded


@writes_guarded
@transaction.atomic
def export_job_cancel(*, job: ExportJob) -> ExportJob:
    """Cancel a pending or running job; a running worker stops at its next progress check."""
    locked = ExportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status not in JobStatus.active():
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
