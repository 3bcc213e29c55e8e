"""Cancelling a job: only pending or running jobs, and only `cancelled` may be asked for."""

import pytest

from exports import services
from exports.exceptions import IllegalTransition, InvalidExportRequest
from exports.models import JobStatus
from exports.tests.factories import ExportJobFactory


@pytest.mark.django_db
def test_a_pending_job_is_cancelled_at_once():
    job = services.export_job_cancel(job=ExportJobFactory())
    assert job.status == JobStatus.CANCELLED and job.cancel_requested and job.completed_at


@pytest.mark.django_db
@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_a_finished_job_cannot_be_cancelled(status):
    job = ExportJobFactory(status=status)
    with pytest.raises(IllegalTransition):
        services.export_job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == status


@pytest.mark.django_db
def test_clients_may_only_ask_for_cancelled():
    job = ExportJobFactory(status=JobStatus.RUNNING)
    with pytest.raises(IllegalTransition):
        services.export_job_set_status(job=job, status="completed")
    with pytest.raises(InvalidExportRequest):
        services.export_job_set_status(job=job, status="done")
    assert services.export_job_set_status(job=job, status="cancelled").status == JobStatus.CANCELLED
