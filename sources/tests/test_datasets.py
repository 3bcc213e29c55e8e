"""A registered table is an export dataset `<source>.<table>`: filters, formats, snapshots, permissions."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pyarrow.parquet as pq
import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from apitokens.services import token_create
from exports import engine, services
from exports.exceptions import InvalidExportRequest
from exports.models import JobStatus
from exports.registry import dataset_names, get_dataset
from sources.services import source_table_delete, source_table_register
from sources.tests.rows import insert_orders

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["shop", "pg_shop"])
def any_shop(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(autouse=True)
def export_storage(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EXPORTS = {**settings.EXPORTS, "TEMP_DIR": str(tmp_path / "export-tmp")}


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)


@pytest.fixture
def orders(any_shop):
    insert_orders(any_shop)
    return source_table_register(
        source="shop",
        table="orders",
        timestamp_column="created_at",
        columns=["id", "created_at", "status", "total", "paid", "note", "details", "weight"],
        purge_condition={"column": "status", "in": ["done", "cancelled"]},
    )


def run(job_type="shop.orders", *, format="csv", filters=None, datasets=None):
    job, _ = services.export_job_create(job_type=job_type, format=format, filter_params=filters, datasets=datasets)
    job = services.export_job_run(job_id=job.pk)
    assert job.status == JobStatus.COMPLETED, job.error_message
    with default_storage.open(job.file, "rb") as handle:
        return job, handle.read()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode(), newline="")))


def test_a_registered_table_is_a_dataset_with_its_columns_and_filters(orders, api):
    assert "shop.orders" in dataset_names()
    response = api.get("/system/exports/datasets")
    [entry] = [d for d in response.json()["datasets"] if d["name"] == "shop.orders"]
    assert [(c["name"], c["type"]) for c in entry["columns"]] == [
        ("id", "int"),
        ("created_at", "datetime"),
        ("status", "str"),
        ("total", "int"),
        ("paid", "bool"),
        ("note", "str"),
        ("details", "json"),
        ("weight", "json"),
    ]
    keys = {key for f in entry["filters"] for key in f["keys"]}
    assert keys == {"created_at_after", "created_at_before", "id", "status", "total", "paid", "note"}


def test_unregistering_the_table_removes_the_dataset(orders):
    source_table_delete(source_table=orders)
    assert "shop.orders" not in dataset_names()


def test_csv_export_holds_exactly_the_filtered_rows(orders):
    job, data = run(filters={"created_at_after": "2026-11-01T00:00:00Z", "status": "done"})
    rows = csv_rows(data)
    assert [row["id"] for row in rows] == ["2", "4"]
    assert rows[0]["created_at"].startswith("2026-11-05")
    assert rows[1]["paid"] == "true"
    assert job.rows_written == 2


def test_csv_export_escapes_formulas_and_writes_other_types_as_text(orders):
    _job, data = run(filters={"id": "1"})
    [row] = csv_rows(data)
    assert row["note"] == "'=HYPERLINK()"
    assert float(row["weight"]) == -1.5  # a number, not a formula: never escaped
    assert json.loads(row["details"]) == {"items": 1}


def test_parquet_export_holds_typed_rows(orders):
    _job, data = run(format="parquet", filters={"created_at_before": "2026-11-21T00:00:00Z"})
    table = pq.read_table(io.BytesIO(data))
    assert table.column("id").to_pylist() == [1, 2, 3]
    assert table.column("status").to_pylist() == ["done", "done", "open"]
    assert table.column("paid").to_pylist() == [True, False, None]


def test_jsonl_holds_numbers_as_numbers(orders):
    _job, data = run(format="jsonl", filters={"id": "1"})
    [line] = data.decode().splitlines()
    assert json.loads(line)["weight"] == -1.5


@pytest.mark.parametrize("format", ["jsonl", "json", "xlsx"])
def test_every_format_exports_a_source_table(orders, format):
    job, data = run(format=format, filters={"status": "cancelled"})
    assert job.rows_written == 1
    assert data


def test_a_snapshot_mixes_a_source_table_with_a_built_in_dataset(orders):
    _job, data = run("snapshot", datasets=["shop.orders", "exports.jobs"], filters={"shop.orders": {"total": "30"}})
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert [row["id"] for row in csv_rows(archive.read("shop.orders.csv"))] == ["3"]
    manifest = json.loads(archive.read("manifest.json"))
    assert "source_shop:" in manifest["consistency"] and "default:" in manifest["consistency"]


@pytest.mark.parametrize(
    ("filters", "key"),
    [
        ({"colour": "red"}, "filter_params.colour"),
        ({"created_at": "2026-01-01"}, "filter_params.created_at"),
        ({"created_at_after": "yesterday"}, "filter_params.created_at_after"),
        ({"total": "many"}, "filter_params.total"),
        ({"details": "{}"}, "filter_params.details"),
    ],
)
def test_unknown_or_bad_filters_are_refused(orders, filters, key):
    with pytest.raises(InvalidExportRequest) as refused:
        get_dataset("shop.orders").validate_filters(filters)
    assert key in refused.value.fields


def test_postgresql_sources_export_csv_through_copy(pg_shop, monkeypatch):
    insert_orders(pg_shop)
    source_table_register(source="shop", table="orders", timestamp_column="created_at")
    copied = []
    real_copy = engine._copy_rows
    monkeypatch.setattr(
        engine,
        "_copy_rows",
        lambda conn, *args, **kwargs: copied.append(conn.alias) or real_copy(conn, *args, **kwargs),
    )
    _job, data = run(filters={"status": "done"})
    assert copied == ["source_shop"]
    assert [row["id"] for row in csv_rows(data)] == ["1", "2", "4"]
    assert csv_rows(data)[0]["note"] == "'=HYPERLINK()"


def _client_with(django_user_model, *codenames):
    user = django_user_model.objects.create_user("exporter", password="pw-exporter-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)[1]}")
    return client


def test_exporting_a_source_table_needs_the_view_permission_of_source_tables(orders, django_user_model):
    client = _client_with(django_user_model, "add_exportjob", "view_exportjob")
    body = {"job_type": "shop.orders", "format": "csv", "filter_params": {"status": "done"}}
    response = client.post("/system/exports/", body, format="json")
    assert response.status_code == 403
    assert "sources.view_sourcetable" in response.json()["detail"]
    client.handler._force_user = None
    Permission.objects.get(codename="view_sourcetable").user_set.add(django_user_model.objects.get(username="exporter"))
    assert client.post("/system/exports/", body, format="json").status_code in (201, 202)
    response = client.post("/system/exports/", {**body, "filter_params": {"colour": "red"}}, format="json")
    assert response.status_code == 400
