import os
import socket
import time

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import override_settings

from maintenance.models import MaintenanceState
from maintenance.state import CACHE_KEY
from maintenance.tests.factories import MaintenanceStateFactory
from opsconsole import liveness
from opsconsole.testing import port_open

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def alive():
    """A worker and beat that have just sent their heartbeats."""
    liveness.worker_beat("celery@test")
    liveness.beat_ticked()


def test_all_checks_ok_gives_200_with_the_mode(anon_api, alive):
    response = anon_api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "workers": "ok",
        "beat": "ok",
        "outbox_lag": "ok",
    }
    assert body["checks"]["workers"]["alive"] == 1
    assert body["maintenance"] == {"mode": "normal"}


def test_no_worker_heartbeat_for_30_seconds_is_degraded_naming_workers(anon_api, alive):
    liveness.worker_beat("celery@test", now=time.time() - 31)
    response = anon_api.get("/health")
    assert response.status_code == 200  # still serving: a load balancer keeps the replica
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["workers"]["status"] == "down"
    assert body["checks"]["beat"]["status"] == "ok"


def test_a_beat_that_stopped_ticking_is_degraded(anon_api, alive):
    liveness.beat_ticked(now=time.time() - 16)  # three 5 s sweep intervals
    body = anon_api.get("/health").json()
    assert body["status"] == "degraded" and body["checks"]["beat"]["status"] == "down"


def test_a_notification_due_longer_than_the_limit_is_degraded(anon_api, alive, settings):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.models import NotificationOutbox
    from notifications.tests.factories import OutboxFactory

    settings.OPSCONSOLE_HEALTH_MAX_LAG_SECONDS = 60
    row = OutboxFactory()
    assert anon_api.get("/health").json()["checks"]["outbox_lag"]["status"] == "ok"
    NotificationOutbox.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(seconds=61))
    body = anon_api.get("/health").json()
    assert body["status"] == "degraded" and body["checks"]["outbox_lag"]["status"] == "down"
    assert body["checks"]["outbox_lag"]["error"] == "outbox lagging"  # the kind, not the figures, for anonymous callers


def test_health_reports_the_maintenance_mode(anon_api):
    MaintenanceStateFactory(mode="maintenance")
    assert anon_api.get("/health/").json()["maintenance"]["mode"] == "maintenance"


def test_health_writes_nothing(anon_api, settings):
    MaintenanceState.objects.bulk_create([MaintenanceState(mode="read_only")])  # committed, not yet cached
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    def cache_files():
        folder = settings.CACHES["default"]["LOCATION"]
        if not settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache") or not os.path.isdir(folder):
            return {}
        return {name: os.stat(os.path.join(folder, name)).st_mtime_ns for name in os.listdir(folder)}

    cache.delete(CACHE_KEY)  # cold: the shield and the probe must not fill it
    before = cache_files()
    with connection.execute_wrapper(record):
        response = anon_api.get("/health")
    assert response.status_code == 200
    assert response.json()["maintenance"]["mode"] == "read_only"
    assert statements and all(sql.lstrip().upper().startswith("SELECT") for sql in statements)
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert cache.get(CACHE_KEY) is None
    assert cache_files() == before


def test_health_refuses_writes_and_needs_no_auth(anon_api):
    assert anon_api.post("/health").status_code == 405
    assert anon_api.head("/health").status_code == 200


def test_database_down_is_503_and_down(anon_api):
    cache.delete(CACHE_KEY)

    def unreachable(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    with connection.execute_wrapper(unreachable):
        response = anon_api.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["error"] == "OperationalError"  # the driver's text is for staff
    assert body["maintenance"]["mode"] == "unknown"


def test_a_redis_cache_that_accepts_and_never_answers_is_down_not_a_hang(anon_api, settings):
    """The project's Redis cache options bound every read: a silent server is an error."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # the kernel accepts the connection; nobody ever answers
    silent_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
        "OPTIONS": settings.REDIS_CACHE_OPTIONS,
    }
    try:
        with override_settings(CACHES={"default": silent_cache}):
            body = anon_api.get("/health").json()
    finally:
        silent.close()
    assert body["checks"]["cache"]["status"] == "down"
    assert "Timeout" in body["checks"]["cache"]["error"]
    # The heartbeats live in that cache: not read again (one timeout, not three).
    assert (
        body["checks"]["workers"]
        == body["checks"]["beat"]
        == {
            "status": "down",
            "latency_ms": 0.0,
            "error": "not checked",
        }
    )
    assert body["maintenance"]["mode"] == "normal"  # read from the database instead
    assert silent_cache["LOCATION"].rsplit(":", 1)[1].split("/")[0] not in body["checks"]["cache"]["error"]


def test_cache_failure_is_degraded_but_200(anon_api):
    broken = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
    }
    with override_settings(CACHES={"default": broken}):
        response = anon_api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"


def test_unreachable_broker_is_degraded_within_the_timeout(anon_api):
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        started = time.monotonic()
        response = anon_api.get("/health")
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["status"] == "down"
    assert body["checks"]["broker"]["error"] == "cannot connect to the redis broker"
    assert elapsed < 3


def test_missing_filesystem_broker_folder_is_degraded(anon_api, tmp_path):
    options = {"data_folder_in": str(tmp_path / "gone"), "data_folder_out": str(tmp_path / "gone")}
    with override_settings(CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options):
        body = anon_api.get("/health").json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["error"] == "broker folder does not exist"
    assert str(tmp_path) not in str(body)


def test_staff_signed_in_to_the_admin_read_the_details(admin_client, tmp_path):
    options = {"data_folder_in": str(tmp_path / "gone"), "data_folder_out": str(tmp_path / "gone")}
    with override_settings(CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options):
        body = admin_client.get("/health").json()
    assert body["checks"]["broker"]["error"] == f"broker folder does not exist: {tmp_path / 'gone'}"


def test_reachable_redis_broker_is_ok(anon_api):
    if not port_open("127.0.0.1", 6379):
        pytest.skip("needs Redis on 127.0.0.1:6379")
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/2", CELERY_BROKER_TRANSPORT_OPTIONS={}):
        body = anon_api.get("/health").json()
    assert body["checks"]["broker"] == {**body["checks"]["broker"], "status": "ok", "transport": "redis"}


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_is_seen_alive_while_it_runs_and_gone_when_it_stops(settings):
    from opsconsole.testing import celery_worker, wait_for

    cache_env = {}
    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        cache_env["OPSCONSOLE_CACHE_DIR"] = str(settings.CACHES["default"]["LOCATION"])
    with celery_worker(**cache_env):
        wait_for(liveness.workers_alive, timeout=30, message="the worker's heartbeat")
    assert liveness.workers_alive() == {}  # a clean stop takes it off the list at once
