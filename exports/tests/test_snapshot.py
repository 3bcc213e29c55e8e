"""Snapshots: one zip, a manifest, and every file read from the same moment."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime

import pytest
from django.core.files.storage import default_storage

from exports import engine, services
from exports.models import ExportJob, JobStatus
from exports.tests.conftest import files_under
from exports.tests.factories import AttemptFactory, ChannelFactory, OutboxFactory
from exports.tests.rows import make_tricky_outbox
from opsconsole.testing import require_postgres

pytestmark = pytest.mark.django_db(transaction=True)

DATASETS = ["notifications.channels", "notifications.outbox", "notifications.attempts"]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)


def run_snapshot(datasets=DATASETS, **kwargs):
    job, _ = services.export_job_create(job_type="snapshot", datasets=datasets, **kwargs)
    return services.export_job_run(job_id=job.pk)


def read_zip(job):
    with default_storage.open(job.file, "rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == job.sha256
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def csv_ids(data: bytes) -> list[int]:
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(data.decode(), newline=""))]


def test_a_snapshot_zip_holds_a_file_per_dataset_and_a_manifest():
    outbox = OutboxFactory.create_batch(3, status="sent")
    OutboxFactory.create_batch(2, status="failed")
    AttemptFactory(outbox=outbox[0])
    job = run_snapshot(filter_params={"notifications.outbox": {"status": "sent"}})
    assert job.status == JobStatus.COMPLETED, job.error_message
    assert job.file.endswith(".zip")
    files = read_zip(job)
    assert set(files) == {f"{name}.csv" for name in DATASETS} | {"manifest.json"}
    manifest = json.loads(files["manifest.json"])
    assert manifest["job_id"] == job.pk
    assert datetime.fromisoformat(manifest["generated_at"]) <= job.completed_at
    entries = {entry["dataset"]: entry for entry in manifest["datasets"]}
    assert [entry["dataset"] for entry in manifest["datasets"]] == DATASETS
    assert entries["notifications.outbox"]["rows"] == 3
    assert entries["notifications.outbox"]["filters"] == {"status": "sent"}
    assert entries["notifications.channels"]["rows"] == 5
    assert entries["notifications.attempts"]["rows"] == 1
    for entry in manifest["datasets"]:
        data = files[entry["file"]]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"]
        assert len(csv_ids(data)) == entry["rows"]
    assert csv_ids(files["notifications.outbox.csv"]) == [row.pk for row in outbox]
    assert job.rows_written == job.total_rows == 9


def test_rows_inserted_while_a_snapshot_runs_are_in_no_file(monkeypatch):
    channel = ChannelFactory()
    first = OutboxFactory(channel=channel)
    AttemptFactory(outbox=first)
    write_dataset = engine.write_dataset
    inserted = {}

    def write_then_insert(conn, dataset, *args, **kwargs):
        written = write_dataset(conn, dataset, *args, **kwargs)
        if not inserted:
            # Committed by another connection after the first file was written.
            late_channel = ChannelFactory(name="late")
            late_outbox = OutboxFactory(channel=channel)
            late_attempt = AttemptFactory(outbox=first, number=2)
            inserted.update(channel=late_channel.pk, outbox=late_outbox.pk, attempt=late_attempt.pk)
        return written

    monkeypatch.setattr(engine, "write_dataset", write_then_insert)
    job = run_snapshot()
    assert job.status == JobStatus.COMPLETED, job.error_message
    files = read_zip(job)
    assert csv_ids(files["notifications.channels.csv"]) == [channel.pk]
    assert csv_ids(files["notifications.outbox.csv"]) == [first.pk]
    assert inserted["attempt"] not in csv_ids(files["notifications.attempts.csv"])
    manifest = json.loads(files["manifest.json"])
    assert [entry["rows"] for entry in manifest["datasets"]] == [1, 1, 1]


def test_rows_inserted_while_a_snapshot_runs_are_in_no_file_on_postgres(monkeypatch):
    require_postgres()
    test_rows_inserted_while_a_snapshot_runs_are_in_no_file(monkeypatch)
    assert "REPEATABLE READ" in json.loads(read_zip(ExportJob.objects.get())["manifest.json"])["consistency"]


def test_a_cancelled_snapshot_leaves_no_file(monkeypatch, export_storage):
    OutboxFactory.create_batch(3)
    write_dataset = engine.write_dataset

    def write_then_cancel(conn, dataset, params, format_name, progress, **kwargs):
        written = write_dataset(conn, dataset, params, format_name, progress, **kwargs)
        services.export_job_cancel(job=ExportJob.objects.get(pk=progress.job_id))
        return written

    monkeypatch.setattr(engine, "write_dataset", write_then_cancel)
    job = run_snapshot()
    assert job.status == JobStatus.CANCELLED
    assert files_under(export_storage["media"]) == [] and files_under(export_storage["temp"]) == []


def test_the_row_cap_counts_every_dataset_of_a_snapshot(settings, export_storage):
    settings.EXPORTS = {**settings.EXPORTS, "ROW_CAP": 5}
    OutboxFactory.create_batch(3)  # 3 outbox rows + 3 channels = 6
    job = run_snapshot(["notifications.channels", "notifications.outbox"])
    assert job.status == JobStatus.FAILED
    assert "selects 6 rows, more than the row cap of 5" in job.error_message
    assert files_under(export_storage["media"]) == []


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_postgres_copy_path_and_the_python_path_write_the_same_bytes(settings, fmt):
    require_postgres()
    make_tricky_outbox()
    ChannelFactory(name="quiet", active=False, config={"b": [1, 2, {"z": None}], "a": "ü,\n"}, description="")
    # Text a spreadsheet would run: both paths must prefix it with ' the same way (a remote
    # endpoint writes response_excerpt).
    formula = OutboxFactory(subject='=HYPERLINK("http://x")', body="\r-1,2", payload={"n": -1})
    AttemptFactory(outbox=formula, response_excerpt="@SUM(1)", error="+1\t")
    outputs = {}
    for dataset in ("notifications.outbox", "notifications.channels", "notifications.attempts"):
        for force_generic in (False, True):
            job, _ = services.export_job_create(job_type=dataset, format=fmt, requested_by=f"{force_generic}")
            job = services.export_job_run(job_id=job.pk, force_generic=force_generic)
            assert job.status == JobStatus.COMPLETED, job.error_message
            with default_storage.open(job.file, "rb") as handle:
                outputs[dataset, force_generic] = handle.read()
        assert outputs[dataset, False] == outputs[dataset, True], dataset
    # Booleans as the Python writers print them.
    assert (b",false," if fmt == "csv" else b'"active":false,') in outputs["notifications.channels", False]
    if fmt == "csv":
        assert b',"\'=HYPERLINK(""http://x"")","\'\r-1,2","{""n"": -1}"' in outputs["notifications.outbox", False]
        assert b"'@SUM(1)" in outputs["notifications.attempts", False]
        assert b"'+1\t" in outputs["notifications.attempts", False]
