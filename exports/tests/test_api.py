import csv
import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from exports import services
from exports.models import ExportJob, JobStatus
from exports.tests.factories import ExportJobFactory, OutboxFactory, completed_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


# --- create -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/system/exports/", "/system/exports"])
def test_post_creates_a_job_with_and_without_the_trailing_slash(api, enqueued, path):
    response = api.post(
        path,
        {"job_type": "notifications.outbox", "format": "jsonl", "filter_params": {"status": "sent"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending" and body["format"] == "jsonl"
    assert body["filter_params"] == {"status": "sent"}
    assert body["requested_by"] == "ops" and body["note"] == ""  # the authenticated user
    assert body["storage_url"] is None
    assert enqueued == [body["id"]]


def test_the_same_request_again_returns_the_pending_job_with_200(api, enqueued):
    request = {"job_type": "notifications.outbox", "filter_params": {"channel": 3}}
    first = api.post("/system/exports/", request, format="json")
    second = api.post("/system/exports/", request, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert ExportJob.objects.count() == 1


def test_a_snapshot_request_is_recorded_with_its_datasets(api, enqueued):
    response = api.post(
        "/system/exports/",
        {
            "job_type": "snapshot",
            "datasets": ["notifications.outbox", "notifications.channels"],
            "filter_params": {"notifications.outbox": {"status": "failed"}},
            "requested_by": "nightly",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["datasets"] == ["notifications.outbox", "notifications.channels"]
    # Who asked is the authenticated user; the name the client sent is kept as the note.
    assert (response.json()["requested_by"], response.json()["note"]) == ("ops", "nightly")
    job = ExportJob.objects.get()
    assert (job.requested_by, job.requested_by_user.username, job.note) == ("ops", "ops", "nightly")


def test_a_client_cannot_name_someone_else_as_the_requester(api, enqueued):
    response = api.post(
        "/system/exports/",
        {"job_type": "notifications.outbox", "requested_by": "admin", "note": "admin"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["requested_by"], response.json()["note"]) == ("ops", "admin")
    assert ExportJob.objects.filter(requested_by="admin").count() == 0


def test_requested_by_and_a_different_note_together_are_a_400(api, enqueued):
    response = api.post(
        "/system/exports/",
        {"job_type": "notifications.outbox", "requested_by": "nightly", "note": "weekly"},
        format="json",
    )
    assert response.status_code == 400
    assert "requested_by" in response.json()["errors"]
    assert ExportJob.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job_type": "notifications.nope"}, "job_type"),
        ({"format": "csv"}, "job_type"),
        ({"job_type": "notifications.outbox", "format": "pdf"}, "format"),
        ({"job_type": "notifications.outbox", "filter_params": {"colour": "red"}}, "filter_params.colour"),
        ({"job_type": "notifications.outbox", "filter_params": {"channel": "seven"}}, "filter_params.channel"),
        ({"job_type": "notifications.outbox", "filter_params": {"channel": 10**22}}, "filter_params.channel"),
        ({"job_type": "notifications.outbox", "filter_params": {"channel": 1.5}}, "filter_params.channel"),
        ({"job_type": "exports.jobs", "filter_params": {"job_type": "x" * 1001}}, "filter_params.job_type"),
        ({"job_type": "notifications.outbox", "filter_params": {"status": ["sent"] * 101}}, "filter_params.status"),
        (
            {"job_type": "notifications.outbox", "filter_params": {"created_after": "9999-12-31T23:59:59-01:00"}},
            "filter_params.created_after",
        ),
        ({"job_type": "notifications.channels", "filter_params": {"active": "maybe"}}, "filter_params.active"),
        ({"job_type": "notifications.outbox", "filter_params": "status=sent"}, "filter_params"),
        ({"job_type": "snapshot"}, "datasets"),
        ({"job_type": "snapshot", "datasets": ["admin.log", "nope"]}, "datasets"),
        ({"job_type": "notifications.outbox", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api, enqueued, body, field):
    response = api.post("/system/exports/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert ExportJob.objects.count() == 0 and enqueued == []


def test_malformed_json_is_a_400(api, enqueued):
    response = api.post("/system/exports/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert ExportJob.objects.count() == 0


def test_unknown_dataset_answer_lists_the_known_ones(api):
    response = api.post("/system/exports/", {"job_type": "billing.invoices"}, format="json")
    assert "notifications.outbox" in response.json()["errors"]["job_type"][0]


# --- read ---------------------------------------------------------------------------


def test_list_filters_on_status_job_type_requester_and_created_range(api):
    old = ExportJobFactory(status=JobStatus.FAILED, requested_by="ana")
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    ExportJobFactory(status=JobStatus.COMPLETED, job_type="admin.log", requested_by="bob")
    ExportJobFactory(status=JobStatus.FAILED, requested_by="bob")

    def ids(query):
        response = api.get("/system/exports", query)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert len(ids({"status": "failed"})) == 2
    assert len(ids({"job_type": "admin.log"})) == 1
    assert len(ids({"requested_by": "ana"})) == 1
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert old.pk not in ids({"created_after": since})
    assert ids({"created_before": since}) == {old.pk}


def test_unknown_list_filters_and_bad_values_are_400(api):
    assert api.get("/system/exports/", {"stauts": "failed"}).status_code == 400
    assert api.get("/system/exports/", {"status": "exploded"}).status_code == 400
    # The bare name of a range filter is ignored by django-filter: every row would come back.
    assert "created" in api.get("/system/exports/", {"created": "2026-01-01"}).json()["errors"]


def test_the_format_filter_is_a_filter_not_content_negotiation(api):
    csv_job = ExportJobFactory(format="csv")
    ExportJobFactory(format="jsonl")
    response = api.get("/system/exports/", {"format": "csv"})
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [csv_job.pk]
    assert "format" in api.get("/system/exports/", {"format": "api"}).json()["errors"]


@pytest.mark.parametrize("suffix", ["", "/"])
def test_detail_shows_progress_and_the_download_url(api, suffix):
    job = completed_job(rows_written=10, total_rows=10)
    body = api.get(f"/system/exports/{job.pk}{suffix}").json()
    assert body["status"] == "completed"
    assert body["storage_url"] == f"http://testserver/system/exports/{job.pk}/download"
    assert body["progress"] == 1.0
    assert body["sha256"] == job.sha256 and body["file_size"] == job.file_size
    running = ExportJobFactory(status=JobStatus.RUNNING, rows_written=25, total_rows=100, requested_by="x")
    assert api.get(f"/system/exports/{running.pk}").json()["progress"] == 0.25


def test_a_missing_job_is_404(api):
    assert api.get("/system/exports/999999").status_code == 404
    assert api.post("/system/exports/999999/status", {"status": "cancelled"}, format="json").status_code == 404


def test_the_dataset_registry_is_listed_with_columns_filters_and_formats(api):
    for path in ("/system/exports/datasets", "/system/exports/datasets/"):
        body = api.get(path).json()
        assert body["formats"] == ["csv", "jsonl", "json", "xlsx", "parquet"]
        outbox = next(d for d in body["datasets"] if d["name"] == "notifications.outbox")
        assert {"name": "payload", "type": "json"} in outbox["columns"]
        assert any(f["name"] == "status" for f in outbox["filters"])
        channels = next(d for d in body["datasets"] if d["name"] == "notifications.channels")
        assert "secret" not in [c["name"] for c in channels["columns"]]


# --- status -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_cancelling_a_pending_job(api, suffix):
    job = ExportJobFactory()
    response = api.post(f"/system/exports/{job.pk}/status{suffix}", {"status": "cancelled"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"


def test_illegal_status_changes_are_409_and_change_nothing(api):
    done = completed_job()
    response = api.post(f"/system/exports/{done.pk}/status", {"status": "cancelled"}, format="json")
    assert response.status_code == 409
    assert "only pending or running" in response.json()["detail"]
    pending = ExportJobFactory(requested_by="p")
    assert api.post(f"/system/exports/{pending.pk}/status", {"status": "completed"}, format="json").status_code == 409
    assert api.post(f"/system/exports/{pending.pk}/status", {"status": "running"}, format="json").status_code == 409
    pending.refresh_from_db()
    done.refresh_from_db()
    assert (pending.status, done.status) == (JobStatus.PENDING, JobStatus.COMPLETED)


def test_a_missing_or_unknown_status_is_400(api):
    job = ExportJobFactory()
    assert api.post(f"/system/exports/{job.pk}/status", {}, format="json").status_code == 400
    assert api.post(f"/system/exports/{job.pk}/status", {"status": "paused"}, format="json").status_code == 400
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING


# --- download -----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_download_streams_the_file_with_a_good_name(api, suffix):
    job = completed_job(content=b"id,body\n1,hello\n")
    response = api.get(f"/system/exports/{job.pk}/download{suffix}")
    assert response.status_code == 200
    assert response.streaming
    data = b"".join(response.streaming_content)
    assert list(csv.reader(io.StringIO(data.decode()))) == [["id", "body"], ["1", "hello"]]
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="notifications.outbox-{job.pk}-' in disposition and '.csv"' in disposition
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Checksum-SHA256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED])
def test_downloading_an_unfinished_job_is_409_with_the_reason(api, status):
    job = ExportJobFactory(status=status, error_message="disk full" if status == JobStatus.FAILED else None)
    response = api.get(f"/system/exports/{job.pk}/download")
    assert response.status_code == 409
    assert response.json()["status"] == status
    if status == JobStatus.FAILED:
        assert "disk full" in response.json()["detail"]


def test_downloading_an_expired_job_is_410(api):
    job = completed_job()
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = api.get(f"/system/exports/{job.pk}/download")
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]


def test_downloading_a_purged_file_is_410(api):
    job = completed_job()
    default_storage.delete(job.file)  # what the retention engine does
    response = api.get(f"/system/exports/{job.pk}/download")
    assert response.status_code == 410
    assert "no longer in storage" in response.json()["detail"]


def _read_ids(fmt: str, data: bytes) -> list[int]:
    if fmt == "csv":
        return [int(row["id"]) for row in csv.DictReader(io.StringIO(data.decode(), newline=""))]
    if fmt == "jsonl":
        import json

        return [json.loads(line)["id"] for line in data.decode().splitlines()]
    if fmt == "xlsx":
        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data)).column("id").to_pylist()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx", "parquet"])
def test_an_outside_client_exports_sent_notifications_and_reads_the_file(api, enqueued, transactional_db, fmt):
    sent = OutboxFactory.create_batch(3, status="sent")
    OutboxFactory.create_batch(2, status="failed")
    created = api.post(
        "/system/exports/",
        {"job_type": "notifications.outbox", "format": fmt, "filter_params": {"status": "sent"}},
        format="json",
    ).json()
    services.export_job_run(job_id=created["id"])  # what the worker does
    detail = api.get(f"/system/exports/{created['id']}").json()
    assert detail["status"] == "completed" and detail["rows_written"] == 3
    response = api.get(detail["storage_url"])
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == detail["sha256"]
    assert _read_ids(fmt, data) == [row.pk for row in sent]
