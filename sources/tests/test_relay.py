"""The transactional outbox relay: a service's committed rows become notifications, once each."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from maintenance.services import maintenance_set_mode
from notifications.models import NotificationOutbox
from notifications.services import notification_enqueue
from notifications.tests.factories import ChannelFactory
from sources import tasks
from sources.exceptions import SourceReadOnly
from sources.services import source_outbox_relay, source_outbox_relay_all
from sources.tests.conftest import sources_override


@pytest.fixture(params=["shop", "pg_shop"])
def any_shop(request):
    return request.getfixturevalue(request.param)


def install(name: str = "shop") -> str:
    out = StringIO()
    call_command("source_outbox_install", "--source", name, stdout=out)
    return out.getvalue()


@pytest.fixture
def shop_outbox(any_shop):
    install()
    return any_shop


def insert(source, channel: str, subject: str = "Order shipped", payload: dict | None = None) -> None:
    with source.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO opsconsole_outbox (channel, subject, body, payload) VALUES (%s, %s, %s, %s)",
            [channel, subject, f"{subject}.", json.dumps(payload or {"order_id": 42})],
        )


def outbox_rows(source) -> list[tuple]:
    with source.connection.cursor() as cursor:
        cursor.execute("SELECT id, channel, error FROM opsconsole_outbox ORDER BY id")
        return cursor.fetchall()


def test_install_is_idempotent_and_prints_the_insert(any_shop):
    first = install()
    assert "INSERT INTO opsconsole_outbox (channel, subject, body, payload) VALUES" in first
    insert(any_shop, "orders")
    install()  # again: the table and its rows stay
    assert len(outbox_rows(any_shop)) == 1


def test_install_on_a_read_only_source_is_refused(shop_read_only):
    with pytest.raises(CommandError, match="read-only") as refused:
        install()
    assert refused.value.returncode == 3


def test_committed_rows_become_notifications_with_the_source_key_and_leave_the_source(shop_outbox):
    channel = ChannelFactory(name="orders")
    insert(shop_outbox, "orders", "First", {"order_id": 1})
    insert(shop_outbox, "orders", "Second", {"order_id": 2})
    result = source_outbox_relay(source="shop")
    assert (result.relayed, result.errored) == (2, 0)
    notifications = list(NotificationOutbox.objects.order_by("id"))
    assert [(n.channel_id, n.subject, n.payload) for n in notifications] == [
        (channel.pk, "First", {"order_id": 1}),
        (channel.pk, "Second", {"order_id": 2}),
    ]
    assert [n.idempotency_key for n in notifications] == ["shop:1", "shop:2"]
    assert outbox_rows(shop_outbox) == []
    assert source_outbox_relay(source="shop").relayed == 0


def test_a_relay_that_died_between_the_two_commits_never_queues_twice(shop_outbox):
    channel = ChannelFactory(name="orders")
    insert(shop_outbox, "orders", "Once")
    # The notification committed, the source row did not go: the relay died in between.
    notification_enqueue(
        channel_id=channel.pk, subject="Once", body="Once.", payload={"order_id": 42}, idempotency_key="shop:1"
    )
    assert source_outbox_relay(source="shop").relayed == 1
    assert NotificationOutbox.objects.count() == 1
    assert outbox_rows(shop_outbox) == []


def test_unknown_and_inactive_channels_keep_the_row_with_an_error(shop_outbox, api):
    ChannelFactory(name="paused", active=False)
    insert(shop_outbox, "nobody")
    insert(shop_outbox, "paused")
    result = source_outbox_relay(source="shop")
    assert (result.relayed, result.errored) == (0, 2)
    rows = outbox_rows(shop_outbox)
    assert "Unknown channel 'nobody'" in rows[0][2]
    assert "inactive" in rows[1][2]
    assert not NotificationOutbox.objects.exists()
    assert source_outbox_relay(source="shop").errored == 0  # kept, not tried again and again

    response = api.get("/system/sources/outbox?source=shop&status=error")
    assert response.status_code == 200
    body = response.json()
    assert (body["installed"], body["pending"], body["errors"]) == (True, 0, 2)
    assert [row["channel"] for row in body["results"]] == ["nobody", "paused"]
    assert "body" not in body["results"][0]

    ChannelFactory(name="nobody")
    response = api.post("/system/sources/outbox/retry", {"source": "shop", "ids": [1]}, format="json")
    assert response.json()["retried"] == 1
    assert source_outbox_relay(source="shop").relayed == 1
    assert NotificationOutbox.objects.get().idempotency_key == "shop:1"
    assert [row[0] for row in outbox_rows(shop_outbox)] == [2]


@pytest.mark.parametrize(
    ("query", "key"),
    [("", "source"), ("?source=shop&status=done", "status"), ("?source=shop&x=1", "x"), ("?source=nope", "source")],
)
def test_the_outbox_listing_refuses_bad_queries(shop_outbox, api, query, key):
    response = api.get(f"/system/sources/outbox{query}")
    assert response.status_code == 400
    assert key in response.json()["errors"]


def test_a_source_without_an_outbox_table_says_so(shop, api):
    assert api.get("/system/sources/outbox?source=shop").json()["installed"] is False
    assert source_outbox_relay_all().relayed == 0


def test_a_read_only_source_is_never_relayed(db, shop_path):
    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": False}):
        install()
    with sources_override(shop={"URL": f"sqlite:///{shop_path}", "READ_ONLY": True}):
        with pytest.raises(SourceReadOnly):
            source_outbox_relay(source="shop")
        assert source_outbox_relay_all().relayed == 0


def test_nothing_is_relayed_outside_normal_mode(shop_outbox):
    ChannelFactory(name="orders")
    insert(shop_outbox, "orders")
    maintenance_set_mode(mode="read_only", reason="test")
    assert tasks.relay_outboxes() == "0 relayed, 0 kept with an error"
    assert len(outbox_rows(shop_outbox)) == 1


def test_the_beat_task_relays_every_source(shop_outbox):
    ChannelFactory(name="orders")
    insert(shop_outbox, "orders")
    assert tasks.relay_outboxes() == "1 relayed, 0 kept with an error"


def test_rolled_back_and_uncommitted_inserts_are_never_relayed(pg_shop):
    import psycopg

    install()
    ChannelFactory(name="orders")
    dsn = _dsn(pg_shop)
    with psycopg.connect(dsn) as service:
        service.execute("INSERT INTO opsconsole_outbox (channel, body) VALUES ('orders', 'rolled back')")
        service.rollback()
        service.execute("INSERT INTO opsconsole_outbox (channel, body) VALUES ('orders', 'later')")
        assert source_outbox_relay(source="shop").relayed == 0  # not committed yet
        service.commit()
    assert source_outbox_relay(source="shop").relayed == 1
    assert list(NotificationOutbox.objects.values_list("body", flat=True)) == ["later"]


def test_rows_another_relay_holds_are_skipped_not_waited_for(pg_shop):
    import psycopg

    install()
    ChannelFactory(name="orders")
    insert(pg_shop, "orders", "held")
    insert(pg_shop, "orders", "free")
    with psycopg.connect(_dsn(pg_shop)) as other:
        other.execute("SELECT id FROM opsconsole_outbox WHERE subject = 'held' FOR UPDATE")
        assert source_outbox_relay(source="shop").relayed == 1
    assert list(NotificationOutbox.objects.values_list("subject", flat=True)) == ["free"]


def _dsn(source) -> str:
    params = source.connection.settings_dict
    return f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


def test_the_admin_shows_the_backlog_and_retries(shop_outbox, staff_client):
    insert(shop_outbox, "nobody")
    source_outbox_relay(source="shop")
    page = staff_client.get("/admin/sources/sourcetable/outbox/")
    assert page.status_code == 200
    assert "Unknown channel" in page.content.decode()
    response = staff_client.post("/admin/sources/sourcetable/outbox/", {"source": "shop"})
    assert response.status_code == 302
    assert outbox_rows(shop_outbox)[0][2] is None


def test_a_key_set_by_the_service_queues_its_message_once(shop_outbox):
    ChannelFactory(name="orders")
    with shop_outbox.connection.cursor() as cursor:
        for _ in range(2):  # the service retried its transaction
            cursor.execute(
                "INSERT INTO opsconsole_outbox (channel, body, idempotency_key) VALUES (%s, %s, %s)",
                ["orders", "Paid.", "order-42-paid"],
            )
    assert source_outbox_relay(source="shop").relayed == 2
    assert list(NotificationOutbox.objects.values_list("idempotency_key", flat=True)) == ["shop:key:order-42-paid"]
