"""Source databases for the sources tests: a SQLite file in tmp_path, or an `oc_src_*` PostgreSQL database.

The source alias is added after pytest-django set up the test database (these fixtures
depend on `db`) and removed before it tears down, so Django's test case neither creates
a test database for it nor wraps it in a transaction: the source is a real database of
its own, as in production. Django's test case refuses connections to aliases it was not
told about (`databases`); source aliases get the real `ensure_connection` back.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings

from opsconsole.env import SOURCE_ALIAS_PREFIX
from opsconsole.testing import require_postgres
from sources.connections import Source, source_get

SQLITE_SCHEMA = """
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, created_at DATETIME NOT NULL, status VARCHAR(20) NOT NULL,
    total INTEGER, paid BOOL, note TEXT, details JSON, weight REAL
);
CREATE TABLE order_lines (order_id INTEGER, line INTEGER, sku TEXT, created_at DATETIME, PRIMARY KEY (order_id, line));
CREATE TABLE logs (message TEXT, logged_at DATETIME);
CREATE TABLE "odd name" (id INTEGER PRIMARY KEY, "placed at" DATETIME, "status;" TEXT);
"""

_REAL_ENSURE_CONNECTION: list = []


@pytest.fixture(autouse=True, scope="session")
def _real_ensure_connection(django_db_blocker):
    """Django's own ensure_connection, which pytest-django's blocker and Django's test case patch."""
    _REAL_ENSURE_CONNECTION.append(django_db_blocker._real_ensure_connection)


PG_SCHEMA = """
CREATE TABLE orders (
    id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, status varchar(20) NOT NULL,
    total integer, paid boolean, note text, details jsonb, weight numeric(8, 2)
);
CREATE TABLE order_lines (
    order_id bigint, line integer, sku text, created_at timestamptz, PRIMARY KEY (order_id, line)
);
CREATE TABLE logs (message text, logged_at timestamptz);
CREATE SCHEMA sales;
CREATE TABLE sales.orders (id bigint PRIMARY KEY, placed_at date);
"""


@contextmanager
def sources_override(**sources: dict) -> Iterator[None]:
    """Configure these sources (and only these) for the block; their connections may connect."""
    real = _REAL_ENSURE_CONNECTION[0]
    guarded = BaseDatabaseWrapper.ensure_connection

    def ensure_connection(self, *args, **kwargs):
        if self.alias.startswith(SOURCE_ALIAS_PREFIX):
            return real(self, *args, **kwargs)
        return guarded(self, *args, **kwargs)

    with (
        override_settings(SOURCES={"CONNECTIONS": sources, "RELAY_SECONDS": 1.0}),
        mock.patch.object(BaseDatabaseWrapper, "ensure_connection", ensure_connection),
    ):
        yield


@pytest.fixture
def shop_path(tmp_path):
    path = tmp_path / "shop.sqlite3"
    with sqlite3.connect(path) as con:
        con.executescript(SQLITE_SCHEMA)
    return path


@pytest.fixture
def shop(db, shop_path) -> Iterator[Source]:
    """Source `shop`: a SQLite file with orders (a good table), order_lines (composite key),
    logs (no key) and "odd name" (identifiers with a space and a semicolon)."""
    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": False}):
        yield source_get("shop")


@pytest.fixture
def shop_read_only(db, shop_path) -> Iterator[Source]:
    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": True}):
        yield source_get("shop")


def _pg_admin_dsn(dbname: str = "postgres") -> str:
    default = settings.DATABASES["default"]
    user = default.get("USER") or "postgres"
    password = f":{default['PASSWORD']}" if default.get("PASSWORD") else ""
    host = default.get("HOST") or "127.0.0.1"
    port = default.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{dbname}"


@pytest.fixture
def pg_shop(db) -> Iterator[Source]:
    """Source `shop` on a PostgreSQL database of its own (`oc_src_shop[_gwN]`), created afresh."""
    require_postgres()
    import psycopg

    name = f"oc_src_shop_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with psycopg.connect(_pg_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _pg_admin_dsn(name)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(PG_SCHEMA)
    try:
        with sources_override(shop={"URL": url, "READ_ONLY": False}):
            yield source_get("shop")
    finally:
        with psycopg.connect(_pg_admin_dsn(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
