"""A registered table is a retention category `<source>.<table>`, purged by the keyset engine."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from maintenance.services import maintenance_set_mode
from retention.models import PurgeRun, PurgeStatus
from retention.registry import registry
from retention.services import policy_upsert
from sources.services import source_table_register
from sources.tests.conftest import sources_override
from sources.tests.rows import insert_orders

# Cutoff with 20 days to keep: 2026-11-11. Older: ids 1 (done) and 2 (done); the condition
# (done, cancelled) would also take 4 and 5, which are younger; 3 is open.
NOW = "2026-12-01T00:00:00Z"


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(params=["shop", "pg_shop"])
def any_shop(request):
    return request.getfixturevalue(request.param)


def register_orders():
    return source_table_register(
        source="shop",
        table="orders",
        timestamp_column="created_at",
        purge_condition={"column": "status", "in": ["done", "cancelled"]},
    )


@pytest.fixture
def orders(any_shop):
    insert_orders(any_shop)
    register_orders()
    policy_upsert(category="shop.orders", days_to_keep=20)
    return any_shop


def order_ids(source) -> list[int]:
    with source.connection.cursor() as cursor:
        cursor.execute("SELECT id FROM orders ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_retention", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_registered_table_is_a_category_with_its_rows_due(orders, api):
    assert "shop.orders" in registry
    response = api.get("/system/retention/categories")
    [entry] = [c for c in response.json()["results"] if c["name"] == "shop.orders"]
    assert entry["rows_due"] == 2
    assert entry["purgeable"] is True
    assert entry["table"].startswith("shop:")


def test_a_dry_run_counts_and_deletes_nothing(orders, api):
    response = api.post("/system/retention/purge", {"categories": ["shop.orders"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["rows_due"] == 2
    assert order_ids(orders) == [1, 2, 3, 4, 5]
    assert PurgeRun.objects.get().dry_run is True


def test_the_purge_deletes_exactly_the_expired_rows_matching_the_condition(orders):
    output = purge("--category", "shop.orders", "--batch-size", "1")
    assert "shop.orders" in output
    assert order_ids(orders) == [3, 4, 5]
    run = PurgeRun.objects.get()
    assert (run.status, run.matched, run.deleted) == (PurgeStatus.COMPLETED, 2, 2)
    purge("--category", "shop.orders")
    assert order_ids(orders) == [3, 4, 5]


def test_without_a_condition_every_expired_row_goes(any_shop):
    insert_orders(any_shop)
    source_table_register(source="shop", table="orders", timestamp_column="created_at")
    policy_upsert(category="shop.orders", days_to_keep=8)  # cutoff 2026-11-23
    purge("--category", "shop.orders")
    assert order_ids(any_shop) == [4, 5]


def test_a_read_only_source_refuses_purges_but_counts_them(db, shop_path, api):
    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": False}):
        from sources.connections import source_get

        insert_orders(source_get("shop"))
        register_orders()
        policy_upsert(category="shop.orders", days_to_keep=20)
    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": True}):
        response = api.post("/system/retention/purge", {"dry_run": False, "categories": ["shop.orders"]}, format="json")
        assert response.status_code == 409
        assert "read-only" in response.json()["detail"]
        assert "OPSCONSOLE_SOURCE_SHOP_READONLY=1" in response.json()["detail"]
        with pytest.raises(CommandError, match="read-only") as refused:
            purge("--category", "shop.orders")
        assert refused.value.returncode == 3
        dry = api.post("/system/retention/purge", {"categories": ["shop.orders"]}, format="json")
        assert dry.json()["rows_due"] == 2
        from sources.connections import source_get

        assert order_ids(source_get("shop")) == [1, 2, 3, 4, 5]
    assert not PurgeRun.objects.filter(dry_run=False).exists()


def test_the_daily_purge_skips_a_read_only_source_with_the_reason(db, shop_path):
    from retention.services import purge_scheduled
    from sources.connections import source_get

    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": False}):
        insert_orders(source_get("shop"))
        register_orders()
        policy_upsert(category="shop.orders", days_to_keep=20)
    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": True}):
        result = purge_scheduled()
        assert [(s.category, s.reason) for s in result.skipped] == [
            ("shop.orders", "source 'shop' is read-only (OPSCONSOLE_SOURCE_SHOP_READONLY=1).")
        ]
        assert order_ids(source_get("shop")) == [1, 2, 3, 4, 5]


def test_maintenance_mode_refuses_a_source_purge(orders):
    maintenance_set_mode(mode="read_only", reason="test")
    with pytest.raises(CommandError) as refused:
        purge("--category", "shop.orders")
    assert refused.value.returncode == 3
    assert order_ids(orders) == [1, 2, 3, 4, 5]


def test_a_source_that_does_not_answer_leaves_the_lists_and_the_dashboard_up(
    db, shop_path, tmp_path, api, staff_client
):
    from sources.connections import source_get

    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": False}):
        insert_orders(source_get("shop"))
        register_orders()
        policy_upsert(category="shop.orders", days_to_keep=20)
    with sources_override(shop={"URL": f"sqlite:///{tmp_path / 'gone.sqlite3'}", "READ_ONLY": False}):
        response = api.get("/system/retention/categories")
        assert response.status_code == 200
        [entry] = [c for c in response.json()["results"] if c["name"] == "shop.orders"]
        assert entry["rows_due"] is None
        assert staff_client.get("/admin/").status_code == 200
        assert "database unreachable" in staff_client.get("/admin/retention/dataretentionpolicy/").content.decode()
