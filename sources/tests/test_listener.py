"""The outbox listener: a committed insert wakes the relay at once (PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command

from notifications.models import NotificationOutbox
from notifications.tests.factories import ChannelFactory
from opsconsole.testing import wait_for
from sources.connections import source_get
from sources.services.listener import listenable_sources, source_outbox_listen
from sources.tests.conftest import _pg_admin_dsn, sources_override
from sources.tests.test_relay import install, outbox_rows

pytestmark = pytest.mark.django_db(transaction=True)


SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _dsn(source) -> str:
    return _pg_admin_dsn(source.connection.settings_dict["NAME"])


def commit_insert(source, subject: str, *, rollback: bool = False) -> None:
    """Insert from another connection, as the service would, and commit (or roll back)."""
    with psycopg.connect(_dsn(source)) as service:
        service.execute(
            "INSERT INTO opsconsole_outbox (channel, subject, body, payload) VALUES (%s, %s, %s, %s::jsonb)",
            ["orders", subject, f"{subject}.", json.dumps({"subject": subject})],
        )
        if rollback:
            service.rollback()
        # leaving the block commits unless rolled back


@contextmanager
def listening(sources=None) -> Iterator[threading.Thread]:
    stop, ready = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            source_outbox_listen(stop=stop, sources=sources, poll_seconds=0.2, on_listening=ready.set)
        except BaseException as exc:  # noqa: BLE001 - surfaced in the test below
            errors.append(exc)

    thread = threading.Thread(target=run, name="outbox-listener", daemon=True)
    thread.start()
    assert ready.wait(20), "the listener never listened"
    try:
        yield thread
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "the listener did not stop"
        assert not errors, errors


def subjects() -> list[str]:
    return sorted(NotificationOutbox.objects.values_list("subject", flat=True))


def test_a_committed_insert_is_relayed_at_once_and_a_rolled_back_one_never(pg_shop):
    install()
    ChannelFactory(name="orders")
    with listening():
        # No beat and no relay call here: only the NOTIFY of the commit can wake the relay.
        commit_insert(pg_shop, "Rolled back", rollback=True)
        commit_insert(pg_shop, "Committed")
        wait_for(lambda: subjects() == ["Committed"], timeout=10, message="the committed row relayed")
        commit_insert(pg_shop, "Second")
        wait_for(lambda: subjects() == ["Committed", "Second"], timeout=10, message="the second row relayed")
    assert outbox_rows(pg_shop) == []
    keys = set(NotificationOutbox.objects.values_list("idempotency_key", flat=True))
    assert all(key.startswith("shop:") for key in keys) and len(keys) == 2


def test_rows_committed_while_no_listener_ran_are_relayed_when_it_starts(pg_shop):
    install()
    ChannelFactory(name="orders")
    commit_insert(pg_shop, "Waited")
    with listening():
        wait_for(lambda: subjects() == ["Waited"], timeout=10, message="the waiting row relayed at start")


def test_the_listener_reconnects_after_its_connection_is_terminated(pg_shop):
    install()
    ChannelFactory(name="orders")
    with listening():
        with psycopg.connect(_dsn(pg_shop), autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
            ).fetchall()
        assert killed == [(True,)]
        commit_insert(pg_shop, "After the outage")  # its NOTIFY went nowhere; the reconnect relays it
        wait_for(lambda: subjects() == ["After the outage"], timeout=15, message="the row relayed after reconnecting")
        commit_insert(pg_shop, "Heard again")
        wait_for(
            lambda: subjects() == ["After the outage", "Heard again"], timeout=10, message="notifications heard again"
        )


def test_a_row_naming_an_unknown_channel_is_kept_with_its_error(pg_shop):
    install()
    with listening():
        commit_insert(pg_shop, "Nobody listens")
        wait_for(lambda: outbox_rows(pg_shop)[0][2], timeout=10, message="the error set on the row")
    assert NotificationOutbox.objects.count() == 0
    assert "Unknown channel 'orders'" in outbox_rows(pg_shop)[0][2]


def test_only_writable_postgresql_sources_are_listened_to(pg_shop, shop_path):
    pg_url = _dsn(pg_shop)
    with sources_override(
        shop={"URL": pg_url, "READ_ONLY": False},
        archive={"URL": pg_url, "READ_ONLY": True},
        local={"URL": f"sqlite:///{shop_path}", "READ_ONLY": False},
    ):
        assert [source.name for source in listenable_sources()] == ["shop"]
        assert source_get("archive").read_only


def test_the_command_says_when_there_is_nothing_to_listen_to(shop):
    out = StringIO()
    call_command("source_outbox_listen", stdout=out)
    assert "No writable PostgreSQL source" in out.getvalue()


def test_make_run_starts_a_listener_only_for_a_writable_postgresql_source(monkeypatch):
    sys.path.insert(0, str(SCRIPTS))
    try:
        import run_all
    finally:
        sys.path.remove(str(SCRIPTS))
    for name in [name for name in os.environ if name.startswith("OPSCONSOLE_SOURCE_")]:
        monkeypatch.delenv(name)
    assert not run_all.listens_for_outboxes()
    monkeypatch.setenv("OPSCONSOLE_SOURCE_SHOP_URL", "sqlite:///shop.sqlite3")
    assert not run_all.listens_for_outboxes()
    monkeypatch.setenv("OPSCONSOLE_SOURCE_ARCHIVE_URL", "postgres://u@db/archive")
    monkeypatch.setenv("OPSCONSOLE_SOURCE_ARCHIVE_READONLY", "1")
    assert not run_all.listens_for_outboxes()
    monkeypatch.setenv("OPSCONSOLE_SOURCE_ORDERS_URL", "postgresql://u@db/orders")
    assert run_all.listens_for_outboxes()
