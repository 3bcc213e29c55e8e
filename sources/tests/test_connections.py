"""Sources from the environment, their aliases, and the router that keeps OpsConsole off them."""

from __future__ import annotations

import pytest
from django.db import connections

from notifications.models import NotificationChannel
from opsconsole.env import env_sources, source_database_settings, source_databases
from sources.connections import source_get
from sources.exceptions import UnknownSource
from sources.router import SourceRouter


def test_sources_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPSCONSOLE_SOURCE_SHOP_URL", "postgres://u:p@db:5432/shop")
    monkeypatch.setenv("OPSCONSOLE_SOURCE_SHOP_READONLY", "1")
    monkeypatch.setenv("OPSCONSOLE_SOURCE_BILLING_DB_URL", "sqlite:////tmp/billing.sqlite3")
    monkeypatch.setenv("OPSCONSOLE_SOURCE_EMPTY_URL", "")
    assert env_sources() == {
        "billing_db": {"URL": "sqlite:////tmp/billing.sqlite3", "READ_ONLY": False},
        "shop": {"URL": "postgres://u:p@db:5432/shop", "READ_ONLY": True},
    }


def test_a_read_only_source_is_read_only_in_the_database_itself():
    pg = source_database_settings("postgres://u:p@db:5432/shop", read_only=True)
    assert "default_transaction_read_only=on" in pg["OPTIONS"]["options"]
    assert source_database_settings("sqlite:////tmp/a.db", read_only=True)["NAME"] == "file:/tmp/a.db?mode=ro"
    assert source_database_settings("sqlite:////tmp/a.db", read_only=False)["NAME"] == "file:/tmp/a.db?mode=rw"
    with pytest.raises(ValueError, match="not PostgreSQL or SQLite"):
        source_database_settings("mysql://u:p@h/db", read_only=False)
    with pytest.raises(ValueError, match="lower-case"):
        source_databases({"Bad-Name": {"URL": "sqlite:////tmp/a.db"}})


def test_a_source_is_an_alias_while_configured(shop):
    assert shop.alias == "source_shop"
    assert "source_shop" in connections.settings
    assert shop.vendor == "sqlite"


def test_an_alias_goes_away_with_its_source(db, shop_path):
    from sources.tests.conftest import sources_override

    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": False}):
        assert "source_shop" in connections.settings
    assert "source_shop" not in connections.settings
    with pytest.raises(UnknownSource):
        source_get("shop")


def test_the_router_never_migrates_a_source_and_keeps_opsconsole_models_in_default():
    router = SourceRouter()
    assert router.allow_migrate("source_shop", "notifications") is False
    assert router.allow_migrate("default", "notifications") is None
    assert router.db_for_read(NotificationChannel) is None
    assert router.db_for_write(NotificationChannel) is None
