import hashlib
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from exports import engine, formats, services
from exports.models import ExportJob, JobStatus
from exports.tests.conftest import files_under
from exports.tests.factories import OutboxFactory
from opsconsole.testing import require_postgres


@pytest.fixture
def no_enqueue(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


pytest_transactional = pytest.mark.django_db(transaction=True)


@pytest_transactional
def test_a_completed_job_records_size_checksum_expiry_and_the_download_url(no_enqueue, settings):
    settings.EXPORTS = {**settings.EXPORTS, "EXPIRE_DAYS": 3}
    OutboxFactory.create_batch(5)
    job, _ = services.export_job_create(job_type="notifications.outbox")
    job = services.export_job_run(job_id=job.pk)
    assert job.status == JobStatus.COMPLETED
    with default_storage.open(job.file, "rb") as handle:
        data = handle.read()
    assert job.file_size == len(data)
    assert job.sha256 == hashlib.sha256(data).hexdigest()
    assert job.rows_written == job.total_rows == 5
    assert job.storage_url == f"/system/exports/{job.pk}/download"
    assert job.expires_at == job.completed_at + timedelta(days=3)
    assert job.file.startswith(f"exports/{job.pk}/notifications.outbox-{job.pk}-") and job.file.endswith(".csv")
    assert job.attempts == 1 and job.started_at is not None


@pytest_transactional
def test_running_a_job_twice_does_nothing_the_second_time(no_enqueue, export_storage):
    OutboxFactory.create_batch(2)
    job, _ = services.export_job_create(job_type="notifications.outbox")
    first = services.export_job_run(job_id=job.pk)
    assert services.export_job_run(job_id=job.pk) is None
    again = ExportJob.objects.get(pk=job.pk)
    assert (again.status, again.file, again.sha256, again.attempts) == (
        first.status,
        first.file,
        first.sha256,
        1,
    )
    assert len(files_under(export_storage["media"])) == 1


@pytest_transactional
def test_cancelling_mid_run_stops_the_worker_and_leaves_no_file(no_enqueue, settings, export_storage, monkeypatch):
    settings.EXPORTS = {**settings.EXPORTS, "CHUNK_SIZE": 2, "PROGRESS_INTERVAL": 0, "USE_COPY": False}
    OutboxFactory.create_batch(10)
    job, _ = services.export_job_create(job_type="notifications.outbox", format="jsonl")
    report = engine.Progress.report
    chunks = []

    def report_then_cancel(self, rows, *, force=False):
        chunks.append(rows)
        if len(chunks) == 2:
            services.export_job_cancel(job=ExportJob.objects.get(pk=job.pk))
        return report(self, rows, force=force)

    monkeypatch.setattr(engine.Progress, "report", report_then_cancel)
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert chunks == [2, 4]  # stopped at the first check after the cancel
    assert job.file == ""
    assert files_under(export_storage["media"]) == []
    assert files_under(export_storage["temp"]) == []


@pytest_transactional
def test_cancelling_a_postgres_copy_mid_stream_leaves_no_file(no_enqueue, settings, export_storage, monkeypatch):
    require_postgres()
    settings.EXPORTS = {**settings.EXPORTS, "PROGRESS_INTERVAL": 0}
    OutboxFactory.create_batch(100, body="x" * 10_000)  # ~1 MB of CSV: several 256 KiB blocks
    job, _ = services.export_job_create(job_type="notifications.outbox", format="csv")
    report = engine.Progress.report
    reports = []

    def report_then_cancel(self, rows, *, force=False):
        reports.append(rows)
        if len(reports) == 1:
            services.export_job_cancel(job=ExportJob.objects.get(pk=job.pk))
        return report(self, rows, force=force)

    monkeypatch.setattr(engine.Progress, "report", report_then_cancel)
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert len(reports) == 1 and 0 < reports[0] < 100  # stopped inside the COPY stream
    assert files_under(export_storage["media"]) == [] and files_under(export_storage["temp"]) == []


@pytest_transactional
def test_a_worker_that_was_given_up_on_can_never_finish_the_newer_attempt(
    no_enqueue, settings, monkeypatch, export_storage
):
    settings.EXPORTS = {
        **settings.EXPORTS,
        "CHUNK_SIZE": 2,
        "PROGRESS_INTERVAL": 0,
        "STALE_SECONDS": 0,
        "USE_COPY": False,
        # This worker must look dead: no heartbeat from its thread during the test.
        "HEARTBEAT_SECONDS": 3600,
    }
    OutboxFactory.create_batch(6)
    job, _ = services.export_job_create(job_type="notifications.outbox")
    report = engine.Progress.report

    def superseded_midway(self, rows, *, force=False):
        if rows == 2 and not force:
            # The beat task thinks this worker is dead; another worker claims the job.
            ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
            services.export_jobs_recover_stale()
            assert services.export_job_claim(job.pk) == 2
        return report(self, rows, force=force)

    monkeypatch.setattr(engine.Progress, "report", superseded_midway)
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.file) == (JobStatus.RUNNING, 2, "")  # the second attempt's, untouched
    assert files_under(export_storage["media"]) == [] and files_under(export_storage["temp"]) == []


@pytest.mark.django_db
def test_the_same_request_by_another_user_is_not_a_duplicate(no_enqueue, django_user_model):
    from django.contrib.auth.models import Permission

    ana = django_user_model.objects.create_user("ana", is_staff=True)
    other = django_user_model.objects.create_user("other", is_staff=True)
    for user in (ana, other):
        user.user_permissions.add(Permission.objects.get(codename="view_logentry"))
    first, _ = services.export_job_create(job_type="admin.log", note="ops", user=ana)
    second, created = services.export_job_create(job_type="admin.log", note="ops", user=other)
    assert created and second.pk != first.pk
    again, created_again = services.export_job_create(job_type="admin.log", note="ops", user=ana)
    assert not created_again and again.pk == first.pk


@pytest_transactional
def test_a_failure_records_the_error_and_leaves_no_file(no_enqueue, export_storage, monkeypatch):
    OutboxFactory.create_batch(3)
    job, _ = services.export_job_create(job_type="notifications.outbox", format="json")

    def broken(self, rows):
        self.out.write(b"half a row")
        raise OSError("disk full")

    monkeypatch.setattr(formats.JsonWriter, "write_rows", broken)
    with pytest.raises(OSError, match="disk full"):
        services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error_message == "Internal error while exporting: OSError: disk full"
    assert job.completed_at is not None and job.file == ""
    assert files_under(export_storage["media"]) == []
    assert files_under(export_storage["temp"]) == []


@pytest_transactional
def test_a_database_error_mid_export_puts_the_job_back_for_the_tasks_retry(no_enqueue, export_storage, monkeypatch):
    from django.db import OperationalError

    from exports.exceptions import ExportInterrupted
    from exports.tasks import run_export

    OutboxFactory.create_batch(2)
    job, _ = services.export_job_create(job_type="notifications.outbox", format="json")

    def connection_lost(self, rows):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(formats.JsonWriter, "write_rows", connection_lost)
    with pytest.raises(ExportInterrupted):
        services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error_message) == (JobStatus.PENDING, 1, None)
    assert files_under(export_storage["temp"]) == []
    assert ExportInterrupted in run_export.autoretry_for and run_export.max_retries


@pytest_transactional
def test_a_database_error_on_the_last_attempt_fails_the_job(no_enqueue, settings, monkeypatch):
    from django.db import OperationalError

    settings.EXPORTS = {**settings.EXPORTS, "MAX_ATTEMPTS": 1}
    OutboxFactory.create_batch(2)
    job, _ = services.export_job_create(job_type="notifications.outbox", format="json")

    def gone(self, rows):
        raise OperationalError("gone")

    monkeypatch.setattr(formats.JsonWriter, "write_rows", gone)
    with pytest.raises(OperationalError):
        services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error_message == "Database error while exporting: OperationalError: gone"


@pytest_transactional
def test_more_rows_than_the_row_cap_fail_the_job_instead_of_truncating(no_enqueue, settings, export_storage):
    settings.EXPORTS = {**settings.EXPORTS, "ROW_CAP": 4}
    OutboxFactory.create_batch(5)
    job, _ = services.export_job_create(job_type="notifications.outbox")
    job = services.export_job_run(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    assert "selects 5 rows, more than the row cap of 4" in job.error_message
    assert files_under(export_storage["media"]) == []
    job_ok, _ = services.export_job_create(
        job_type="notifications.outbox", filter_params={"status": "sent"}, requested_by="b"
    )
    OutboxFactory.create_batch(1, status="failed")
    assert services.export_job_run(job_id=job_ok.pk).status == JobStatus.FAILED  # still 5 sent rows


@pytest_transactional
def test_the_row_cap_holds_while_writing_too(no_enqueue, settings, monkeypatch):
    settings.EXPORTS = {**settings.EXPORTS, "ROW_CAP": 3, "CHUNK_SIZE": 2, "USE_COPY": False}
    OutboxFactory.create_batch(5)
    monkeypatch.setattr(engine, "count_rows", lambda *args: 1)  # an estimate that is wrong
    job, _ = services.export_job_create(job_type="notifications.outbox")
    job = services.export_job_run(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    assert "row cap of 3" in job.error_message


@pytest_transactional
def test_an_xlsx_export_larger_than_a_sheet_fails_with_a_clear_message(no_enqueue, monkeypatch):
    monkeypatch.setattr(formats.XlsxWriter, "max_rows", 2)
    OutboxFactory.create_batch(3)
    job, _ = services.export_job_create(job_type="notifications.outbox", format="xlsx")
    job = services.export_job_run(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    assert "a xlsx file holds at most 2" in job.error_message


# --- cancel ---------------------------------------------------------------------------


@pytest_transactional
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx", "parquet"])
def test_a_channel_export_carries_no_credentials(no_enqueue, export_storage, fmt):
    from exports.tests.factories import ChannelFactory

    ChannelFactory(channel_type="slack", target="https://hooks.slack.com/services/T1/B1/sEcReT1")
    ChannelFactory(channel_type="webhook", target="https://h.example.com/in?token=sEcReT2", config={})
    ChannelFactory(channel_type="webhook", target="https://h.example.com/plain", config={"headers": {"A": "sEcReT3"}})
    ChannelFactory(channel_type="apprise", target="tgram://sEcReT4/1")
    ChannelFactory(channel_type="email", target="ops@example.com")
    job, _ = services.export_job_create(job_type="notifications.channels", format=fmt)
    job = services.export_job_run(job_id=job.pk)
    assert job.status == JobStatus.COMPLETED, job.error_message
    with default_storage.open(job.file, "rb") as handle:
        data = handle.read()
    if fmt == "xlsx":
        import zipfile
        from io import BytesIO

        with zipfile.ZipFile(BytesIO(data)) as book:
            data = b"".join(book.read(name) for name in book.namelist())
    elif fmt == "parquet":
        from io import BytesIO

        import pyarrow.parquet as pq

        data = str(pq.read_table(BytesIO(data)).to_pylist()).encode()
    assert b"sEcReT" not in data
    assert b"ops@example.com" in data and b"https://h.example.com/plain" in data
    assert job.rows_written == 5


@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_on_postgres_make_one_job(no_enqueue, monkeypatch):
    require_postgres()
    import threading
    import time

    from django.db import connection

    real_find = services.create.export_job_find_active_duplicate
    first_checked, release_first = threading.Event(), threading.Event()
    calls = []

    def find_then_hold(**identity):
        found = real_find(**identity)
        calls.append(found)
        if len(calls) == 1:  # the first request holds its transaction open after finding nothing
            first_checked.set()
            release_first.wait(10)
        return found

    monkeypatch.setattr(services.create, "export_job_find_active_duplicate", find_then_hold)
    results = []

    def create():
        try:
            results.append(services.export_job_create(job_type="notifications.outbox", requested_by="ana"))
        finally:
            connection.close()

    first = threading.Thread(target=create)
    first.start()
    assert first_checked.wait(10)
    second = threading.Thread(target=create)
    second.start()
    time.sleep(0.5)  # the second request reaches the lock (or, without it, creates a duplicate)
    release_first.set()
    first.join(10)
    second.join(10)
    assert sorted(created for _job, created in results) == [False, True]
    assert ExportJob.objects.count() == 1


@pytest_transactional
def test_a_queued_job_waits_while_read_only_and_runs_once_back_to_normal(no_enqueue, export_storage, settings):
    from maintenance.services import maintenance_set_mode

    settings.EXPORTS = {**settings.EXPORTS, "STALE_SECONDS": 0}
    OutboxFactory.create_batch(2)
    job, _ = services.export_job_create(job_type="notifications.outbox")
    maintenance_set_mode(mode="read_only", reason="failover")
    assert services.export_job_run(job_id=job.pk) is None
    assert services.export_jobs_recover_stale() == {"requeued": 0, "failed": 0, "resent": 0}
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.attempts == 0
    maintenance_set_mode(mode="normal", reason="done")
    assert services.export_jobs_recover_stale()["resent"] == 1  # sent to a worker again
    assert services.export_job_run(job_id=job.pk).status == JobStatus.COMPLETED
