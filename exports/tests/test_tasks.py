"""The task path with a real Celery worker on the configured broker."""

import csv
import io
import os

import pytest
from django.core.files.storage import default_storage

from exports import services
from exports.models import ExportJob, JobStatus
from exports.tests.factories import OutboxFactory
from opsconsole.testing import celery_worker, wait_for


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_completes_an_export_end_to_end(settings, tmp_path, django_capture_on_commit_callbacks):
    # The worker process keeps its var/ (media, temp files) under this test's tmp_path.
    worker_var = tmp_path / "worker-var"
    settings.MEDIA_ROOT = str(worker_var / "media")
    rows = OutboxFactory.create_batch(25, status="sent")
    OutboxFactory.create_batch(5, status="failed")
    with celery_worker(OPSCONSOLE_VAR_DIR=str(worker_var)):
        with django_capture_on_commit_callbacks(execute=True):
            job, created = services.export_job_create(
                job_type="notifications.outbox", format="csv", filter_params={"status": "sent"}
            )
        assert created
        finished = wait_for(
            lambda: ExportJob.objects.filter(pk=job.pk, status__in=[JobStatus.COMPLETED, JobStatus.FAILED]).first(),
            timeout=60,
            message="the worker to finish the export",
        )
    assert finished.status == JobStatus.COMPLETED, finished.error_message
    assert finished.rows_written == 25 and finished.attempts == 1
    with default_storage.open(finished.file, "rb") as handle:
        read = list(csv.DictReader(io.StringIO(handle.read().decode(), newline="")))
    assert [int(row["id"]) for row in read] == [row.pk for row in rows]
    assert not list((worker_var / "tmp" / "exports").glob("*"))


@pytest.mark.django_db
def test_the_beat_task_requeues_a_job_left_running_by_a_dead_worker(monkeypatch, settings):
    from datetime import timedelta

    from django.utils import timezone

    from exports import tasks
    from exports.tests.factories import ExportJobFactory

    settings.EXPORTS = {**settings.EXPORTS, "STALE_SECONDS": 30}
    requeued = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", requeued.append)
    job = ExportJobFactory(status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(minutes=2))
    assert settings.CELERY_BEAT_SCHEDULE["exports-recover-stale"]["task"] == tasks.recover_stale_jobs.name
    assert tasks.recover_stale_jobs() == {"requeued": 1, "failed": 0, "resent": 0}
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and requeued == [job.pk]
    assert tasks.run_export.acks_late is True
    assert tasks.run_export.time_limit > tasks.run_export.soft_time_limit > 0


@pytest.mark.django_db
def test_the_beat_task_removes_expired_files_and_keeps_the_jobs(settings, api):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from exports import tasks
    from exports.tests.factories import ExportJobFactory

    now = timezone.now()

    def stored_job(expires_at, status=JobStatus.COMPLETED):
        job = ExportJobFactory(status=status, expires_at=expires_at)
        job.file = default_storage.save(f"exports/{job.pk}/out.csv", ContentFile(b"id\n1\n"))
        job.save(update_fields=["file"])
        return job

    expired = stored_job(now - timedelta(minutes=1))
    gone_already = stored_job(now - timedelta(days=1))
    default_storage.delete(gone_already.file)
    fresh = stored_job(now + timedelta(days=1))
    running = stored_job(now - timedelta(days=1), status=JobStatus.RUNNING)
    expired_name = expired.file

    assert settings.CELERY_BEAT_SCHEDULE["exports-delete-expired-files"]["task"] == tasks.delete_expired_files.name
    assert tasks.delete_expired_files() == {"deleted": 1, "missing": 1}
    assert not default_storage.exists(expired_name)
    assert not os.path.exists(os.path.dirname(default_storage.path(expired_name)))  # exports/<id>/ too
    expired.refresh_from_db()
    assert expired.file == "" and expired.status == JobStatus.COMPLETED  # the row stays as history
    assert api.get(f"/system/exports/{expired.pk}/download").status_code == 410
    for job in (fresh, running):
        job.refresh_from_db()
        assert job.file and default_storage.exists(job.file)
    assert tasks.delete_expired_files() == {"deleted": 0, "missing": 0}
