"""An export whose worker dies: noticed from its heartbeat, re-queued or failed, its partial files removed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from celery.signals import worker_ready
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from exports import apps, engine, selectors, services
from exports.exceptions import ExportNotReady
from exports.models import ExportJob, JobStatus
from exports.tests.conftest import files_under
from exports.tests.factories import ExportJobFactory, OutboxFactory
from opsconsole.env import BASE_DIR
from opsconsole.testing import wait_for, worker_env


@pytest.fixture
def no_enqueue(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


def temp_file(job_id: int, attempt: int, content: bytes = b"id,subject\n1,half a ro") -> Path:
    path = engine.temp_dir() / f"{engine.temp_prefix(job_id, attempt)}abc123.csv"
    path.write_bytes(content)
    return path


# --- noticing a dead worker -----------------------------------------------------------


def test_the_stale_time_comes_from_the_environment():
    code = (
        "import django; django.setup(); "
        "from exports.conf import exports_settings; print(exports_settings.STALE_SECONDS)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsconsole.settings"}
    default = subprocess.run([sys.executable, "-c", code], env=env, cwd=BASE_DIR, capture_output=True, text=True)
    env["OPSCONSOLE_EXPORT_STALE_SECONDS"] = "25"
    chosen = subprocess.run([sys.executable, "-c", code], env=env, cwd=BASE_DIR, capture_output=True, text=True)
    assert (default.stdout.strip(), chosen.stdout.strip()) == ("60.0", "25.0"), default.stderr + chosen.stderr


def test_the_sweep_runs_often_enough_to_notice_a_dead_worker_within_a_minute_or_so(settings):
    sweep = settings.CELERY_BEAT_SCHEDULE["exports-recover-stale"]["schedule"]
    assert sweep <= 20 and settings.EXPORTS["STALE_SECONDS"] + sweep <= 80


@pytest.mark.django_db
def test_a_job_is_stale_only_once_its_heartbeat_is_older_than_the_stale_time(no_enqueue, settings):
    settings.EXPORTS = {**settings.EXPORTS, "STALE_SECONDS": 60}
    with time_machine.travel(timezone.now(), tick=False) as clock:
        job = ExportJobFactory(status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
        clock.shift(timedelta(seconds=59))
        assert services.export_jobs_recover_stale()["requeued"] == 0
        clock.shift(timedelta(seconds=2))
        assert services.export_jobs_recover_stale()["requeued"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and no_enqueue == [job.pk]


@pytest.mark.django_db(transaction=True)
def test_a_running_export_keeps_its_heartbeat_fresh_while_no_row_moves(no_enqueue, settings, monkeypatch):
    """A long COUNT or COPY writes no progress; the heartbeat thread must show life all the same."""
    settings.EXPORTS = {**settings.EXPORTS, "HEARTBEAT_SECONDS": 0.05, "USE_COPY": False}
    OutboxFactory.create_batch(3)
    job, _ = services.export_job_create(job_type="notifications.outbox")
    real_write = engine.write_dataset
    seen = []

    def slow_write(*args, **kwargs):
        first = ExportJob.objects.get(pk=job.pk).heartbeat_at
        # No row is written meanwhile: only the heartbeat thread can move heartbeat_at.
        seen.append(
            wait_for(
                lambda: ExportJob.objects.filter(pk=job.pk, heartbeat_at__gt=first).first(),
                timeout=20,
                message="the heartbeat thread to write",
            )
        )
        return real_write(*args, **kwargs)

    monkeypatch.setattr(engine, "write_dataset", slow_write)
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and len(seen) == 1


# --- cleaning up after it -------------------------------------------------------------


@pytest.mark.django_db
def test_requeueing_a_dead_job_removes_its_partial_files_and_no_one_elses(no_enqueue, settings, export_storage):
    settings.EXPORTS = {**settings.EXPORTS, "STALE_SECONDS": 60}
    dead = ExportJobFactory(status=JobStatus.RUNNING, attempts=2, heartbeat_at=timezone.now() - timedelta(minutes=2))
    alive = ExportJobFactory(status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now(), requested_by="b")
    temp_file(dead.pk, 1)
    temp_file(dead.pk, 2)
    kept = temp_file(alive.pk, 1)
    default_storage.save(f"exports/{dead.pk}/cut-off.csv", ContentFile(b"id\n1\n2"))
    default_storage.save(f"exports/{alive.pk}/being-stored.csv", ContentFile(b"id\n1\n"))

    assert services.export_jobs_recover_stale() == {"requeued": 1, "failed": 0, "resent": 0}

    assert files_under(export_storage["temp"]) == [kept]
    assert [p.name for p in files_under(export_storage["media"])] == ["being-stored.csv"]


@pytest.mark.django_db
def test_a_job_given_up_on_is_failed_with_its_partial_files_removed(no_enqueue, settings, export_storage):
    settings.EXPORTS = {**settings.EXPORTS, "STALE_SECONDS": 60, "MAX_ATTEMPTS": 3}
    job = ExportJobFactory(status=JobStatus.RUNNING, attempts=3, heartbeat_at=timezone.now() - timedelta(minutes=2))
    temp_file(job.pk, 3)
    assert services.export_jobs_recover_stale()["failed"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "3 times; giving up" in job.error_message
    assert files_under(export_storage["temp"]) == [] and no_enqueue == []


@pytest.mark.django_db
def test_a_starting_worker_removes_orphaned_temp_files_but_not_live_ones(settings, export_storage):
    settings.EXPORTS = {**settings.EXPORTS, "STALE_SECONDS": 60}
    running = ExportJobFactory(status=JobStatus.RUNNING, attempts=2, heartbeat_at=timezone.now())
    failed = ExportJobFactory(status=JobStatus.FAILED, attempts=1, requested_by="b")
    live = temp_file(running.pk, 2)
    temp_file(running.pk, 1)  # the attempt before, killed
    temp_file(failed.pk, 1)
    temp_file(987654, 1)  # its job is gone
    old_unnamed = engine.temp_dir() / "tmpq1w2e3.csv"
    old_unnamed.write_bytes(b"x")
    os.utime(old_unnamed, (time.time() - 61, time.time() - 61))
    fresh_unnamed = engine.temp_dir() / "tmpz9x8c7.csv"
    fresh_unnamed.write_bytes(b"x")

    assert apps.remove_orphaned_temp_files in worker_ready._live_receivers(None)  # what a worker runs at start
    apps.remove_orphaned_temp_files(sender=None)

    assert files_under(export_storage["temp"]) == sorted([live, fresh_unnamed])


@pytest.mark.django_db
def test_a_partial_file_is_never_served(settings, export_storage):
    job = ExportJobFactory(status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    name = default_storage.save(f"exports/{job.pk}/{job.download_name}", ContentFile(b"id\n1\n"))
    ExportJob.objects.filter(pk=job.pk).update(file=name)  # even if a row pointed at it
    job.refresh_from_db()
    with pytest.raises(ExportNotReady):
        selectors.export_job_download(job=job)


# --- a real worker process, killed mid-write --------------------------------------------

# Runs the export service in a process of its own and stops it for good once a first block
# of the file is on disk: the test then SIGKILLs it there, mid-write.
KILLED_EXPORT = """
import os, sys, time
import django
django.setup()
from django.conf import settings
from exports import engine, services

settings.EXPORTS = {**settings.EXPORTS, "USE_COPY": False, "CHUNK_SIZE": 50, "HEARTBEAT_SECONDS": 0.2}
engine.HashingFile.BLOCK = 1024
marker = sys.argv[2]
real_write_block = engine.HashingFile._write_block

def write_block_then_hang(self, block):
    real_write_block(self, block)
    self.raw.flush()
    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(600)

engine.HashingFile._write_block = write_block_then_hang
services.export_job_run(job_id=int(sys.argv[1]))
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("max_attempts", [3, 1])
def test_a_worker_killed_mid_write_is_recovered_and_leaves_no_partial_file(
    no_enqueue, settings, tmp_path, max_attempts
):
    worker_var = tmp_path / "worker-var"
    settings.MEDIA_ROOT = str(worker_var / "media")
    settings.EXPORTS = {
        **settings.EXPORTS,
        "TEMP_DIR": str(worker_var / "tmp" / "exports"),
        "STALE_SECONDS": 60,
        "MAX_ATTEMPTS": max_attempts,
    }
    OutboxFactory.create_batch(300, body="a body long enough to fill a few blocks " * 3)
    job, _ = services.export_job_create(job_type="notifications.outbox")
    no_enqueue.clear()  # the creation's own send: this test runs the job by hand
    marker = tmp_path / "mid-write"
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_EXPORT, str(job.pk), str(marker)],
        cwd=BASE_DIR,
        env=worker_env(OPSCONSOLE_VAR_DIR=str(worker_var)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: marker.exists() or worker.poll() is not None, timeout=60, message="the export to start")
        assert worker.poll() is None, worker.stdout.read()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    partials = files_under(worker_var / "tmp" / "exports")
    assert len(partials) == 1 and partials[0].stat().st_size > 0
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)

    # The process is gone, so its heartbeat stops; the sweep acts once STALE_SECONDS have passed.
    with time_machine.travel(job.heartbeat_at + timedelta(seconds=30), tick=False):
        assert services.export_jobs_recover_stale() == {"requeued": 0, "failed": 0, "resent": 0}
    with time_machine.travel(job.heartbeat_at + timedelta(seconds=61), tick=False):
        counts = services.export_jobs_recover_stale()
    job.refresh_from_db()
    assert files_under(worker_var / "tmp" / "exports") == []
    if max_attempts == 1:
        assert counts["failed"] == 1 and job.status == JobStatus.FAILED
        assert "stopped responding" in job.error_message and "1 times; giving up" in job.error_message
        assert no_enqueue == []
        return
    assert counts["requeued"] == 1 and job.status == JobStatus.PENDING and no_enqueue == [job.pk]
    services.export_job_run(job_id=job.pk)  # the re-sent task
    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows_written) == (JobStatus.COMPLETED, 2, 300)
    assert files_under(worker_var / "tmp" / "exports") == []


@pytest.mark.django_db
def test_a_running_job_whose_worker_died_is_requeued(no_enqueue, settings):
    settings.EXPORTS = {**settings.EXPORTS, "STALE_SECONDS": 60, "MAX_ATTEMPTS": 3}
    long_ago = timezone.now() - timedelta(minutes=5)
    dead = ExportJobFactory(status=JobStatus.RUNNING, attempts=1, heartbeat_at=long_ago, rows_written=7)
    alive = ExportJobFactory(status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now(), requested_by="b")
    counts = services.export_jobs_recover_stale()
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert counts == {"requeued": 1, "failed": 0, "resent": 0}
    assert dead.status == JobStatus.PENDING and dead.rows_written == 0
    assert alive.status == JobStatus.RUNNING
    assert no_enqueue == [dead.pk]


@pytest.mark.django_db
def test_a_job_whose_worker_keeps_dying_is_failed_with_a_reason(no_enqueue, settings):
    settings.EXPORTS = {**settings.EXPORTS, "STALE_SECONDS": 60, "MAX_ATTEMPTS": 2}
    job = ExportJobFactory(status=JobStatus.RUNNING, attempts=2, heartbeat_at=timezone.now() - timedelta(hours=1))
    services.export_jobs_recover_stale()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped responding" in job.error_message and "2 times" in job.error_message
    assert no_enqueue == []


@pytest.mark.django_db
def test_a_pending_job_whose_message_was_lost_is_sent_again(no_enqueue, settings):
    settings.EXPORTS = {**settings.EXPORTS, "STALE_SECONDS": 60}
    job = ExportJobFactory(heartbeat_at=timezone.now() - timedelta(minutes=10))
    ExportJobFactory(heartbeat_at=timezone.now(), requested_by="fresh")
    assert services.export_jobs_recover_stale() == {"requeued": 0, "failed": 0, "resent": 1}
    assert no_enqueue == [job.pk]
