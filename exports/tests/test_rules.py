"""The rules that live in one place: status groups, back to pending, the write guard, settings."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from exports import services, tasks
from exports.exceptions import ExportCancelled, ExportFailed, ExportInterrupted, IllegalTransition
from exports.models import ExportJob, JobStatus
from exports.services.attempt import Attempt
from exports.tests.factories import ExportJobFactory
from maintenance.exceptions import WritesBlocked
from maintenance.services import maintenance_set_mode
from opsconsole import errors
from opsconsole.api.exceptions import status_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_enqueue(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


def test_every_status_is_either_active_or_finished_never_both():
    active, finished = set(JobStatus.active()), set(JobStatus.finished())
    assert active == {"pending", "running"}
    assert finished == {"completed", "failed", "cancelled"}
    assert active | finished == set(JobStatus.values)


def test_back_to_pending_resets_what_a_dead_attempt_left():
    long_ago = timezone.now() - timedelta(hours=1)
    job = ExportJobFactory(
        status=JobStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago, rows_written=500, error_message="x"
    )

    assert services.export_jobs_back_to_pending(ExportJob.objects.filter(pk=job.pk)) == 1

    job.refresh_from_db()
    assert (job.status, job.started_at, job.rows_written, job.error_message) == ("pending", None, 0, None)
    assert job.heartbeat_at > long_ago


def test_an_attempt_requeues_only_the_job_it_still_owns():
    job = ExportJobFactory(status=JobStatus.RUNNING, attempts=2, started_at=timezone.now(), rows_written=7)

    assert Attempt(job.pk, 1).requeue() is False  # superseded by attempt 2
    job.refresh_from_db()
    assert (job.status, job.rows_written) == ("running", 7)

    assert Attempt(job.pk, 2).requeue() is True
    job.refresh_from_db()
    assert (job.status, job.rows_written) == ("pending", 0)


def test_cancel_is_refused_outside_normal_mode_and_changes_nothing():
    job = ExportJobFactory(status=JobStatus.PENDING)
    maintenance_set_mode(mode="read_only", reason="test")

    with pytest.raises(WritesBlocked):
        services.export_job_cancel(job=job)

    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == ("pending", False)


def test_the_expired_file_sweep_waits_outside_normal_mode_and_catches_up_after():
    name = default_storage.save("exports/1/old.csv", ContentFile(b"id\n1\n"))
    job = ExportJobFactory(status=JobStatus.COMPLETED, file=name, expires_at=timezone.now() - timedelta(days=1))
    maintenance_set_mode(mode="read_only", reason="test")

    assert services.export_files_delete_expired() == {"deleted": 0, "missing": 0}
    assert default_storage.exists(name)

    maintenance_set_mode(mode="normal", reason="done")
    assert services.export_files_delete_expired() == {"deleted": 1, "missing": 0}
    assert not default_storage.exists(name)
    job.refresh_from_db()
    assert job.file == ""


def test_the_stale_job_sweep_waits_outside_normal_mode(no_enqueue):
    dead = timezone.now() - timedelta(hours=1)
    job = ExportJobFactory(status=JobStatus.RUNNING, attempts=1, started_at=dead, heartbeat_at=dead)
    maintenance_set_mode(mode="maintenance", reason="test")

    assert services.export_jobs_recover_stale() == {"requeued": 0, "failed": 0, "resent": 0}
    job.refresh_from_db()
    assert job.status == "running"
    assert no_enqueue == []


def test_the_task_time_limits_are_read_when_a_job_runs_not_at_import(settings):
    settings.EXPORTS = {**settings.EXPORTS, "SOFT_TIME_LIMIT": 30, "TIME_LIMIT": 45}
    assert (tasks.run_export.soft_time_limit, tasks.run_export.time_limit) == (30, 45)

    settings.EXPORTS = {**settings.EXPORTS, "SOFT_TIME_LIMIT": 60, "TIME_LIMIT": 90}
    assert (tasks.run_export.soft_time_limit, tasks.run_export.time_limit) == (60, 90)


def test_a_time_limit_set_by_celery_control_wins_over_the_settings(monkeypatch):
    monkeypatch.setattr(tasks.run_export, "_overrides", {}, raising=False)
    tasks.run_export.soft_time_limit, tasks.run_export.time_limit = 5, 10  # what `celery control time_limit` does
    assert (tasks.run_export.soft_time_limit, tasks.run_export.time_limit) == (5, 10)


@pytest.mark.parametrize("control_flow", [ExportFailed, ExportCancelled, ExportInterrupted])
def test_the_engine_control_flow_never_reaches_a_client_as_a_domain_error(control_flow):
    assert not issubclass(control_flow, errors.OpsConsoleError)


def test_an_illegal_status_change_is_the_one_illegal_transition_kind_a_409():
    job = ExportJobFactory(status=JobStatus.COMPLETED)

    with pytest.raises(errors.IllegalTransition) as excinfo:
        services.export_job_set_status(job=job, status="cancelled")

    assert isinstance(excinfo.value, IllegalTransition)
    assert status_of(excinfo.value) == 409
    assert not hasattr(excinfo.value, "status_code")


def test_the_download_path_and_name_come_from_the_job():
    job = ExportJobFactory(job_type="notifications.outbox", format="jsonl")

    assert job.download_path == f"/system/exports/{job.pk}/download"
    assert job.download_name == f"notifications.outbox-{job.pk}-{job.created_at:%Y%m%d-%H%M%S}.jsonl"
    snapshot = ExportJobFactory(job_type="snapshot", datasets=["admin.log"], format="csv")
    assert snapshot.download_name.endswith(".zip")
