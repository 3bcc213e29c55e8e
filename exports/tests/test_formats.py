"""Every format, read back with its own reader, equals the source rows."""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from django.core.files.storage import default_storage

from exports import cells, formats, services
from exports.models import JobStatus
from exports.registry import Column, Kind
from exports.tests.factories import OutboxFactory
from exports.tests.rows import as_csv_text, make_tricky_outbox, outbox_columns

pytestmark = pytest.mark.django_db(transaction=True)


def run_export(fmt, filter_params=None, **kwargs):
    job, _ = services.export_job_create(
        job_type="notifications.outbox", format=fmt, filter_params=filter_params or {}, requested_by=fmt
    )
    job = services.export_job_run(job_id=job.pk, **kwargs)
    assert job.status == JobStatus.COMPLETED, job.error_message
    with default_storage.open(job.file, "rb") as handle:
        return job, handle.read()


@pytest.fixture
def source(monkeypatch):
    # The worker is not under test here: enqueueing is a no-op, the service runs inline.
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    return make_tricky_outbox()


def test_csv_reads_back_equal_to_the_source_rows(source):
    _job, data = run_export("csv")
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header, *rows = list(reader)
    assert header == outbox_columns()
    assert len(rows) == len(source)
    for row, expected in zip(rows, source, strict=True):
        record = dict(zip(header, row, strict=True))
        for column in header:
            if column == "payload":
                assert (json.loads(record[column]) if record[column] else None) == expected.payload
            else:
                assert record[column] == as_csv_text(expected, column), column


def test_csv_tells_null_from_the_empty_string(source):
    _job, data = run_export("csv")
    lines = data.decode().split("\n")
    null_subject_row = next(line for line in lines if line.startswith(f"{source[1].pk},"))
    empty_subject_row = next(line for line in lines if line.startswith(f"{source[2].pk},"))
    # subject is the 5th column: NULL is an empty field, '' is a quoted empty string
    assert null_subject_row.split(",")[4] == ""
    assert empty_subject_row.split(",")[4] == '""'


def _check_json_objects(objects, source):
    assert len(objects) == len(source)
    for obj, expected in zip(objects, source, strict=True):
        assert list(obj) == outbox_columns()
        assert obj["id"] == expected.pk
        assert obj["subject"] == expected.subject
        assert obj["body"] == expected.body
        assert obj["payload"] == expected.payload
        assert obj["channel_id"] == expected.channel_id
        assert datetime.fromisoformat(obj["created_at"]) == expected.created_at
        assert (datetime.fromisoformat(obj["sent_at"]) if obj["sent_at"] else None) == expected.sent_at
        assert obj["last_error"] is None


def test_jsonl_reads_back_equal_to_the_source_rows(source):
    _job, data = run_export("jsonl")
    lines = data.decode().splitlines()
    _check_json_objects([json.loads(line) for line in lines], source)


def test_json_reads_back_equal_to_the_source_rows(source):
    _job, data = run_export("json")
    _check_json_objects(json.loads(data), source)


def test_xlsx_reads_back_equal_to_the_source_rows(source):
    import openpyxl

    _job, data = run_export("xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert list(header) == outbox_columns()
    assert len(rows) == len(source)
    for row, expected in zip(rows, source, strict=True):
        record = dict(zip(header, row, strict=True))
        assert record["id"] == expected.pk
        # Excel keeps no empty strings ('' reads back as an empty cell) and XML turns CR LF into LF.
        assert record["subject"] == (expected.subject or None)
        assert record["body"] == (expected.body.replace("\r\n", "\n") or None)
        assert (json.loads(record["payload"]) if record["payload"] else None) == expected.payload
        # Excel holds UTC wall time to the millisecond.
        created = record["created_at"].replace(tzinfo=UTC)
        assert abs((created - expected.created_at).total_seconds()) < 0.001


def test_parquet_reads_back_equal_to_the_source_rows(source, settings):
    import pyarrow.parquet as pq

    settings.EXPORTS = {**settings.EXPORTS, "PARQUET_ROW_GROUP": 4, "CHUNK_SIZE": 2}
    _job, data = run_export("parquet")
    parquet = pq.ParquetFile(io.BytesIO(data))
    assert parquet.metadata.num_row_groups == 2  # 6 rows in row groups of 4
    table = parquet.read()
    assert table.column_names == outbox_columns()
    assert str(table.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    for record, expected in zip(table.to_pylist(), source, strict=True):
        assert record["id"] == expected.pk
        assert record["subject"] == expected.subject
        assert record["body"] == expected.body
        assert (json.loads(record["payload"]) if record["payload"] is not None else None) == expected.payload
        assert record["created_at"] == expected.created_at
        assert record["sent_at"] == expected.sent_at


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "xlsx", "parquet"])
def test_filters_choose_the_rows_in_every_format(fmt, monkeypatch):
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    sent = make_tricky_outbox(status="sent")
    OutboxFactory.create_batch(3, status="failed")
    job, data = run_export(fmt, {"status": ["sent"]})
    assert job.rows_written == len(sent)
    if fmt == "csv":
        ids = [int(row[0]) for row in list(csv.reader(io.StringIO(data.decode(), newline="")))[1:]]
    elif fmt == "jsonl":
        ids = [json.loads(line)["id"] for line in data.decode().splitlines()]
    elif fmt == "json":
        ids = [obj["id"] for obj in json.loads(data)]
    elif fmt == "xlsx":
        import openpyxl

        ids = [row[0] for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True)]
    else:
        import pyarrow.parquet as pq

        ids = pq.read_table(io.BytesIO(data)).column("id").to_pylist()
    assert ids == [row.pk for row in sent]


def test_an_empty_selection_still_makes_a_readable_file(monkeypatch):
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    _job, data = run_export("json")
    assert json.loads(data) == []
    _job, data = run_export("csv")
    assert data.decode() == ",".join(outbox_columns()) + "\n"


def test_csv_field_quotes_exactly_what_postgres_copy_quotes():
    assert cells.csv_field("plain") == "plain"
    assert cells.csv_field("") == '""'
    assert cells.csv_field("a,b") == '"a,b"'
    assert cells.csv_field('say "hi"') == '"say ""hi"""'
    assert cells.csv_field("two\nlines") == '"two\nlines"'
    assert cells.csv_field(" padded ") == " padded "
    assert cells.csv_field("\\.") == "\\."
    assert cells.csv_field("\\.", single_column=True) == '"\\."'


def test_timestamps_print_as_postgres_prints_them_in_utc():
    from zoneinfo import ZoneInfo

    paris = datetime(2026, 6, 1, 12, 0, 0, 120000, tzinfo=ZoneInfo("Europe/Paris"))
    assert cells.pg_timestamptz_text(paris) == "2026-06-01 10:00:00.12+00"
    assert cells.pg_timestamptz_text(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02 03:04:05+00"


def test_a_snapshot_of_csv_files_reads_back_from_the_zip(monkeypatch):
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    source = make_tricky_outbox()
    job, _ = services.export_job_create(job_type="snapshot", datasets=["notifications.outbox"], format="csv")
    job = services.export_job_run(job_id=job.pk)
    with default_storage.open(job.file, "rb") as handle, zipfile.ZipFile(handle) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("notifications.outbox.csv").decode(), newline="")))
    assert [int(r[0]) for r in rows[1:]] == [s.pk for s in source]


def test_xlsx_stores_text_that_looks_like_a_formula_as_text(monkeypatch):
    import openpyxl

    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    OutboxFactory(subject='=HYPERLINK("http://evil.example","click")', body="=1+2")
    _job, data = run_export("xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    subject, body = sheet.cell(row=2, column=5), sheet.cell(row=2, column=6)
    assert (subject.value, subject.data_type) == ('=HYPERLINK("http://evil.example","click")', "s")
    assert (body.value, body.data_type) == ("=1+2", "s")


def test_xlsx_refuses_a_value_too_long_for_a_cell_instead_of_cutting_it(monkeypatch):
    from openpyxl.worksheet import _writer as openpyxl_writer

    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    OutboxFactory(body="x" * 32_768)
    openpyxl_temp_files = set(openpyxl_writer.ALL_TEMP_FILES)
    job, _ = services.export_job_create(job_type="notifications.outbox", format="xlsx")
    job = services.export_job_run(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    assert "does not fit an Excel cell" in job.error_message
    assert set(openpyxl_writer.ALL_TEMP_FILES) == openpyxl_temp_files  # openpyxl's own temp file is gone too


def test_parquet_row_groups_are_full_whatever_the_chunk_size(settings):
    """Chunks of 3 rows, groups of 4: 30 rows are 7 groups of 4 and one of 2, not 4,2,4,2,…"""
    import pyarrow.parquet as pq

    from exports.registry import Column, Kind

    settings.EXPORTS = {**settings.EXPORTS, "PARQUET_ROW_GROUP": 4}
    out = io.BytesIO()
    writer = formats.ParquetWriter(out, [Column("id", kind=Kind.INT), Column("name", kind=Kind.STR)])
    writer.begin()
    for start in range(0, 30, 3):
        writer.write_rows([(n, f"row {n}") for n in range(start, start + 3)])
    writer.finish()
    parquet = pq.ParquetFile(io.BytesIO(out.getvalue()))
    sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.metadata.num_row_groups)]
    assert sizes == [4] * 7 + [2]
    assert parquet.read().column("id").to_pylist() == list(range(30))


FORMULAS = ["=1+2", "+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\tstarts with a tab", "\rstarts with CR"]


def test_csv_prefixes_text_that_a_spreadsheet_would_run_as_a_formula(monkeypatch):
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    rows = [OutboxFactory(subject=text, body="a = b, not a formula") for text in FORMULAS]
    _job, data = run_export("csv")
    records = {int(record["id"]): record for record in csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))}
    for row, text in zip(rows, FORMULAS, strict=True):
        assert records[row.pk]["subject"] == "'" + text
        assert records[row.pk]["body"] == "a = b, not a formula"


def test_csv_formula_escaping_can_be_turned_off_for_machine_readers(monkeypatch, settings):
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    settings.EXPORTS = {**settings.EXPORTS, "CSV_ESCAPE_FORMULAS": False}
    row = OutboxFactory(subject="=1+2")
    _job, data = run_export("csv")
    record = next(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert (int(record["id"]), record["subject"]) == (row.pk, "=1+2")


def test_csv_escapes_text_columns_only_so_negative_numbers_stay_numbers():
    columns = [Column("n", kind=Kind.INT), Column("text", kind=Kind.STR), Column("doc", kind=Kind.JSON)]
    out = io.BytesIO()
    writer = formats.CsvWriter(out, columns)
    writer.begin()
    writer.write_rows([(-5, "-5", "-5"), (None, None, None), (7, "=x,y", '{"a": "=b"}')])
    assert out.getvalue().decode() == 'n,text,doc\n-5,\'-5,-5\n,,\n7,"\'=x,y","{""a"": ""=b""}"\n'


@pytest.mark.parametrize("fmt", ["jsonl", "json", "parquet"])
def test_formats_other_than_csv_keep_formula_like_text_as_it_is(fmt, monkeypatch):
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    OutboxFactory(subject="=1+2")
    _job, data = run_export(fmt)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        subjects = pq.read_table(io.BytesIO(data)).column("subject").to_pylist()
    else:
        objects = json.loads(data) if fmt == "json" else [json.loads(line) for line in data.splitlines()]
        subjects = [item["subject"] for item in objects]
    assert subjects == ["=1+2"]
