"""/system/sources: sources, registering tables (validated by introspection), introspection listing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from apitokens.services import token_create
from sources.models import SourceTable


@pytest.fixture(params=["shop", "pg_shop"])
def any_shop(request):
    return request.getfixturevalue(request.param)


def _register(api, **body):
    data = {"source": "shop", "table": "orders", "timestamp_column": "created_at", **body}
    return api.post("/system/sources/tables", data, format="json")


def test_sources_are_listed_with_reachability_and_never_their_url(api, shop, shop_path):
    response = api.get("/system/sources/")
    assert response.status_code == 200
    [entry] = response.json()["results"]
    assert entry == {
        "name": "shop",
        "vendor": "sqlite",
        "read_only": False,
        "reachable": True,
        "error": "",
        "registered_tables": 0,
    }
    assert str(shop_path) not in response.content.decode()


def test_a_source_whose_database_is_missing_is_unreachable_and_not_created(api, db, tmp_path):
    from sources.tests.conftest import sources_override

    missing = tmp_path / "gone.sqlite3"
    with sources_override(gone={"URL": f"sqlite:///{missing}", "READ_ONLY": False}):
        [entry] = api.get("/system/sources").json()["results"]
    assert entry["reachable"] is False
    assert entry["error"] == "OperationalError"
    assert not missing.exists()


def test_registering_a_table_validates_it_and_defaults_to_every_column(api, any_shop):
    response = _register(api, description="Orders of the shop")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "shop.orders"
    assert body["table"] == ("public.orders" if any_shop.vendor == "postgresql" else "orders")
    assert body["columns"] == ["id", "created_at", "status", "total", "paid", "note", "details", "weight"]
    assert api.get("/system/sources/tables").json()["count"] == 1
    assert api.get(f"/system/sources/tables/{body['id']}").json()["description"] == "Orders of the shop"


def test_registered_columns_keep_the_tables_order(api, shop):
    response = _register(api, columns=["status", "id"], purge_condition={"column": "status", "in": ["done"]})
    assert response.status_code == 201, response.json()
    assert response.json()["columns"] == ["id", "status"]
    assert response.json()["purge_condition"] == {"column": "status", "in": ["done"]}


def test_a_schema_qualified_table_registers_on_postgresql(api, pg_shop):
    response = _register(api, table="sales.orders", timestamp_column="placed_at")
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "shop.sales.orders"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"source": "nope"}, "source", "Unknown source 'nope'"),
        ({"table": "missing"}, "table", "has no table"),
        ({"table": "orders; DROP TABLE orders"}, "table", "has no table"),
        ({"table": 'orders" --'}, "table", "has no table"),
        ({"table": "order lines"}, "table", "has no table"),
        ({"table": "order_lines"}, "table", "single-column primary key (found: order_id, line)"),
        ({"table": "logs", "timestamp_column": "logged_at"}, "table", "single-column primary key (found: none)"),
        ({"timestamp_column": "status"}, "timestamp_column", "not a date or time"),
        ({"timestamp_column": "created_at; --"}, "timestamp_column", "has no column"),
        ({"columns": ["id", "secret"]}, "columns", "has no column 'secret'"),
        ({"columns": ["id", "id"]}, "columns", "once"),
        ({"purge_condition": {"column": "nope", "in": ["x"]}}, "purge_condition", "has no column 'nope'"),
        ({"purge_condition": {"column": "status", "in": []}}, "purge_condition", '"in" must list'),
        ({"purge_condition": {"column": "status"}}, "purge_condition", "An object"),
        ({"columns": []}, "columns", "empty"),
        ({"extra": 1}, "extra", "Unknown field"),
    ],
)
def test_bad_registrations_are_400_naming_the_field_and_write_nothing(api, any_shop, body, field, reason):
    response = _register(api, **body)
    assert response.status_code == 400, response.json()
    assert reason in " ".join(response.json()["errors"][field])
    assert not SourceTable.objects.exists()
    with any_shop.connection.cursor() as cursor:  # the table named in an attack is still there
        cursor.execute("SELECT COUNT(*) FROM orders")


def test_identifiers_with_spaces_and_semicolons_that_exist_are_quoted(api, shop):
    response = _register(api, table="odd name", timestamp_column="placed at", columns=["id", "status;"])
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "shop.odd name"


def test_registering_the_same_table_twice_is_a_409(api, any_shop):
    assert _register(api).status_code == 201
    response = _register(api, table="public.orders" if any_shop.vendor == "postgresql" else "orders")
    assert response.status_code == 409
    assert SourceTable.objects.count() == 1


def test_a_registered_table_changes_its_columns_but_not_its_table(api, shop):
    table_id = _register(api).json()["id"]
    response = api.patch(f"/system/sources/tables/{table_id}", {"columns": ["id", "total"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["columns"] == ["id", "total"]
    response = api.patch(f"/system/sources/tables/{table_id}", {"table": "logs"}, format="json")
    assert response.status_code == 400
    assert "delete it" in response.json()["errors"]["table"][0]
    response = api.patch(f"/system/sources/tables/{table_id}", {"timestamp_column": "note"}, format="json")
    assert response.status_code == 400
    assert SourceTable.objects.get().timestamp_column == "created_at"
    assert api.delete(f"/system/sources/tables/{table_id}").status_code == 204
    assert not SourceTable.objects.exists()
    assert api.get(f"/system/sources/tables/{table_id}").status_code == 404


def test_introspection_lists_tables_with_columns_and_what_is_registered(api, any_shop):
    _register(api)
    response = api.get("/system/sources/shop/tables")
    assert response.status_code == 200
    by_name = {entry["table"].removeprefix("public."): entry for entry in response.json()["results"]}
    assert {"orders", "order_lines", "logs"} <= set(by_name)
    assert by_name["orders"]["registered"] is True
    assert by_name["orders"]["primary_key"] == ["id"]
    assert {"name": "created_at", "kind": "datetime"}.items() <= by_name["orders"]["columns"][1].items()
    assert api.get("/system/sources/nope/tables").status_code == 400
    assert api.get("/system/sources/shop/tables?x=1").status_code == 400


def _client_with(django_user_model, *codenames):
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)[1]}")
    return client


def test_registering_needs_the_add_permission(django_user_model, shop, nonstaff_api, anon_api):
    viewer = _client_with(django_user_model, "view_sourcetable")
    assert viewer.get("/system/sources/tables").status_code == 200
    assert viewer.get("/system/sources").status_code == 200
    assert _register(viewer).status_code == 403
    assert viewer.get("/system/sources/shop/tables").status_code == 403
    assert nonstaff_api.get("/system/sources").status_code == 403
    assert anon_api.get("/system/sources").status_code == 401
    assert not SourceTable.objects.exists()


def test_registering_is_refused_outside_normal_mode(api, shop):
    from maintenance.services import maintenance_set_mode

    maintenance_set_mode(mode="read_only", reason="test")
    assert _register(api).status_code == 503
    assert not SourceTable.objects.exists()
