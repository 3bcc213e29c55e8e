"""The admin: registering a table through the introspection-driven form, and the outbox page."""

from __future__ import annotations

from sources.models import SourceTable
from sources.services import source_table_register


def test_the_add_form_offers_the_tables_introspection_finds(shop, staff_client):
    page = staff_client.get("/admin/sources/sourcetable/add/")
    assert page.status_code == 200
    content = page.content.decode()
    assert 'value="shop|orders"' in content
    assert 'value="shop|odd name"' in content


def test_a_table_registers_through_the_admin_form_with_its_checks(shop, staff_client):
    form = {
        "source_table": "shop|orders",
        "timestamp_column": "created_at",
        "column_list": "status, id",
        "purge_condition": "null",
        "description": "Orders",
    }
    refused = staff_client.post("/admin/sources/sourcetable/add/", {**form, "column_list": "id, secret"})
    assert refused.status_code == 200
    assert "has no column &#x27;secret&#x27;" in refused.content.decode()
    assert not SourceTable.objects.exists()
    response = staff_client.post("/admin/sources/sourcetable/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    table = SourceTable.objects.get()
    assert (table.name, table.columns, table.primary_key) == ("shop.orders", ["id", "status"], "id")


def test_the_changelist_and_change_form_show_the_table(shop, staff_client):
    table = source_table_register(source="shop", table="orders", timestamp_column="created_at")
    assert "shop.orders" in staff_client.get("/admin/sources/sourcetable/").content.decode()
    change = staff_client.get(f"/admin/sources/sourcetable/{table.pk}/change/")
    assert "created_at (DATETIME)" in change.content.decode()
    assert staff_client.get("/admin/sources/sourcetable/?table__regex=.*").status_code == 400


def test_the_outbox_page_says_whether_each_source_answers(shop, staff_client):
    content = staff_client.get("/admin/sources/sourcetable/outbox/").content.decode()
    assert "Reachable." in content
    assert "source_outbox_install --source shop" in content


def test_a_registered_table_changes_through_the_admin(shop, staff_client):
    table = source_table_register(source="shop", table="orders", timestamp_column="created_at")
    form = {
        "timestamp_column": "created_at",
        "column_list": ["id", "total"],
        "purge_condition": "null",
        "description": "",
    }
    response = staff_client.post(f"/admin/sources/sourcetable/{table.pk}/change/", form)
    assert response.status_code == 302
    table.refresh_from_db()
    assert table.columns == ["id", "total"]
    refused = staff_client.post(f"/admin/sources/sourcetable/{table.pk}/change/", {**form, "timestamp_column": "note"})
    assert "not a date or time" in refused.content.decode()
    table.refresh_from_db()
    assert table.timestamp_column == "created_at"


def test_once_registered_the_columns_are_ticked_from_the_table_not_typed(shop, staff_client):
    table = source_table_register(source="shop", table="orders", timestamp_column="created_at", columns=["id"])
    page = staff_client.get(f"/admin/sources/sourcetable/{table.pk}/change/").content.decode()
    assert 'type="checkbox" name="column_list" value="total"' in page
    assert 'type="checkbox" name="column_list" value="id"' in page and "checked" in page
    form = {"timestamp_column": "created_at", "column_list": ["id", "status"], "purge_condition": "null"}
    assert staff_client.post(f"/admin/sources/sourcetable/{table.pk}/change/", form).status_code == 302
    table.refresh_from_db()
    assert table.columns == ["id", "status"]
    none_ticked = {"timestamp_column": "created_at", "purge_condition": "null"}
    assert staff_client.post(f"/admin/sources/sourcetable/{table.pk}/change/", none_ticked).status_code == 302
    table.refresh_from_db()
    assert "total" in table.columns  # none ticked: every column
    refused = staff_client.post(f"/admin/sources/sourcetable/{table.pk}/change/", {**form, "column_list": ["nope"]})
    assert "nope" in refused.content.decode()  # not a choice of this table
