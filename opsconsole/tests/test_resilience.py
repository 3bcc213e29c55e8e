"""A lost database is a 503, a lost broker never blocks a request nor kills a worker."""

from __future__ import annotations

import logging
import time

import pytest
from django.db import IntegrityError, OperationalError
from django.test import Client, override_settings
from django.urls import path

from opsconsole import doorbell
from opsconsole.redis_transport import QoS


def lost_database(request):
    raise OperationalError("terminating connection due to administrator command")


def a_bug(request):
    raise IntegrityError("duplicate key value violates unique constraint")


urlpatterns = [
    path("system/lost", lost_database),
    path("admin/lost", lost_database),
    path("system/bug", a_bug),
]
handler500 = "opsconsole.api.views.server_error"


@pytest.fixture
def client():
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
        yield Client(raise_request_exception=False)


def test_a_lost_database_is_a_503_json_with_retry_after_for_api_clients(client):
    response = client.get("/system/lost")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "database is unavailable" in response.json()["detail"]


def test_a_lost_database_is_a_503_page_for_browsers(client):
    response = client.get("/admin/lost", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"Back in a moment" in response.content


def test_other_database_errors_stay_500s(client):
    assert client.get("/system/bug").status_code == 500


def test_a_doorbell_that_cannot_reach_the_broker_neither_blocks_nor_raises(monkeypatch, caplog):
    from opsconsole.celery import app

    calls = []

    def unreachable(*args, **kwargs):
        calls.append(args)
        time.sleep(0.3)  # a broker that takes its time to refuse
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(app, "send_task", unreachable)
    monkeypatch.setitem(doorbell._outage, "since", None)
    with caplog.at_level(logging.WARNING, logger="opsconsole.doorbell"):
        began = time.monotonic()
        for outbox_id in range(5):
            doorbell.ring("notifications.tasks.deliver", outbox_id)
        rung_in = time.monotonic() - began
        assert doorbell.flush(timeout=10)
    assert rung_in < 0.2  # the publishes ran in the background
    assert len(calls) == 5
    assert caplog.text.count("broker unavailable") == 1  # one line per outage, not per message


def test_losing_redis_while_a_task_is_unacknowledged_does_not_raise():
    qos = QoS.__new__(QoS)
    qos._delivered = {"tag-1": object(), "tag-2": object()}

    class GoneChannel:
        def conn_or_acquire(self, client=None):
            raise AttributeError("'NoneType' object has no attribute 'hostname'")

    qos.channel = GoneChannel()
    assert qos.restore_unacked() is None  # what killed the worker before: now one log line
    assert qos._delivered == {}
