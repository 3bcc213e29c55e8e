"""GET /health: no auth, no writes; 503 only when the database is unreachable.

Each check is a small backend class (django-health-check's BaseHealthCheckBackend):
`run()` returns details or raises HealthCheckFailed. A failing critical check makes the
service "down" (503); any other failure makes it "degraded" (still 200, so a load
balancer keeps a replica whose cache or broker hiccups).
"""

from __future__ import annotations

import logging
import os
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 1.0


class HealthCheckFailed(Exception):
    """A dependency is unreachable or unusable; the message says why, as
    "<what anyone may see>: <details only staff see>" (see health_view)."""


class HealthCheck(ABC):
    """One dependency to probe. Subclasses implement `run()`; it must not write anything."""

    name: ClassVar[str]
    critical: ClassVar[bool] = False
    # Checks that read through another one (the heartbeats live in the cache): when that one
    # is down they are reported down without being run, so a silent Redis costs /health one
    # timeout, not one per check.
    needs: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self) -> dict[str, Any]:
        """Probe the dependency; return extra details, or raise HealthCheckFailed."""

    def result(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            details = self.run()
        except HealthCheckFailed as exc:
            status, details = "down", {"error": str(exc)[:300]}
        except Exception as exc:  # a probe reports any driver error instead of crashing /health
            logger.warning("health check %s failed", self.name, exc_info=True)
            status, details = "down", {"error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            status = "ok"
        return {"status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 1), **details}


class DatabaseCheck(HealthCheck):
    """A read-only query on the default database."""

    name = "database"
    critical = True

    def run(self) -> dict[str, Any]:
        connection = connections["default"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                raise HealthCheckFailed("unexpected answer to SELECT 1")
        return {"vendor": connection.vendor}


class CacheCheck(HealthCheck):
    """A get on the default cache (a miss is fine; only an error fails)."""

    name = "cache"

    def run(self) -> dict[str, Any]:
        backend = caches["default"]
        backend.get("opsconsole:health:probe")
        return {"backend": type(backend).__name__}


class BrokerCheck(HealthCheck):
    """The Celery broker: folders for the filesystem transport, a connection otherwise."""

    name = "broker"

    def run(self) -> dict[str, Any]:
        url = settings.CELERY_BROKER_URL
        transport = url.split("://", 1)[0] or "amqp"
        if transport == "filesystem":
            return self._filesystem(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
        return self._connect(url, transport)

    def _filesystem(self, options: dict[str, Any]) -> dict[str, Any]:
        folders = {options.get(key) for key in ("data_folder_in", "data_folder_out", "processed_folder")}
        folders.discard(None)
        for folder in sorted(folders):
            if not os.path.isdir(folder):
                raise HealthCheckFailed(f"broker folder does not exist: {folder}")
            if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
                raise HealthCheckFailed(f"broker folder is not writable: {folder}")
        return {"transport": "filesystem"}

    def _connect(self, url: str, transport: str) -> dict[str, Any]:
        from kombu import Connection

        options = {
            **getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            # Redis transport: bound the TCP connect and the PING it sends.
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
            "max_retries": 0,
        }
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS, transport_options=options) as connection:
            try:
                connection.ensure_connection(
                    max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS
                )
            except Exception as exc:  # kombu raises the transport's own errors
                raise HealthCheckFailed(f"cannot connect to the {transport} broker: {exc}") from exc
        return {"transport": transport}


class WorkersCheck(HealthCheck):
    """Celery workers seen alive (their heartbeat in the shared cache) within the last 30 s."""

    name = "workers"
    needs = ("cache",)

    def run(self) -> dict[str, Any]:
        from opsconsole import liveness

        alive = liveness.workers_alive()
        if not alive:
            raise HealthCheckFailed(f"no worker seen: none sent a heartbeat in {liveness.WORKER_DOWN_AFTER:.0f} s")
        return {"alive": len(alive)}


class BeatCheck(HealthCheck):
    """Celery beat ticked within three delivery-sweep intervals."""

    name = "beat"
    needs = ("cache",)

    def run(self) -> dict[str, Any]:
        from opsconsole import liveness

        limit = 3 * _sweep_interval()
        last = liveness.beat_last_tick()
        if last is None:
            raise HealthCheckFailed("beat not seen: no tick recorded")
        age = time.time() - last
        if age > limit:
            raise HealthCheckFailed(f"beat late: last tick {age:.0f} s ago (limit {limit:.0f} s)")
        return {"last_tick_age_s": round(age, 1)}


class OutboxLagCheck(HealthCheck):
    """The oldest deliverable notification waits less than OPSCONSOLE_HEALTH_MAX_LAG_SECONDS."""

    name = "outbox_lag"

    def run(self) -> dict[str, Any]:
        from notifications.selectors import outbox_oldest_due_age

        limit = float(getattr(settings, "OPSCONSOLE_HEALTH_MAX_LAG_SECONDS", 300))
        age = outbox_oldest_due_age()
        if age is not None and age > limit:
            raise HealthCheckFailed(
                f"outbox lagging: the oldest due notification waits {age:.0f} s (limit {limit:.0f} s)"
            )
        return {"oldest_due_s": None if age is None else round(age, 1)}


def _sweep_interval() -> float:
    entry = settings.CELERY_BEAT_SCHEDULE.get("notifications-dispatch-due", {})
    schedule = entry.get("schedule", 5.0)
    return float(schedule) if isinstance(schedule, int | float) else 60.0


class MaintenanceProbe:
    """The mode in force, read without writing to the cache (unlike the shield's reads);
    from the database alone when the cache is down."""

    def __init__(self, *, cache_ok: bool = True) -> None:
        self.cache_ok = cache_ok

    def result(self) -> dict[str, Any]:
        from maintenance.selectors import maintenance_snapshot, maintenance_state_get

        try:
            snapshot = maintenance_snapshot(publish=False) if self.cache_ok else maintenance_state_get()
            return {"mode": snapshot.mode}
        except Exception as exc:  # the database may be down: report, don't fail /health
            return {"mode": "unknown", "error": f"{type(exc).__name__}: {exc}"[:300]}


CHECKS: list[type[HealthCheck]] = [DatabaseCheck, CacheCheck, BrokerCheck, WorkersCheck, BeatCheck, OutboxLagCheck]


def run_checks() -> tuple[str, dict[str, Any]]:
    """Run every check; return the overall status ("ok", "degraded", "down") and their results."""
    results: dict[str, Any] = {}
    status = "ok"
    for check_class in CHECKS:
        check = check_class()
        down = [name for name in check.needs if results.get(name, {}).get("status") != "ok"]
        if down:
            result = {"status": "down", "latency_ms": 0.0, "error": f"not checked: {', '.join(down)} down"}
        else:
            result = check.result()
        results[check.name] = result
        if result["status"] != "ok":
            status = "down" if check.critical else ("degraded" if status == "ok" else status)
    return status, results


@never_cache
@csrf_exempt  # so that a POST learns it is the wrong method (405), not a CSRF 403
def health_view(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"detail": f"Method {request.method} not allowed; use GET."}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    status, checks = run_checks()
    maintenance = MaintenanceProbe(cache_ok=checks["cache"]["status"] == "ok").result()
    if not _is_staff(request):
        # Driver errors name hosts, ports and paths: only staff (signed in to the admin) read
        # them; monitors see the status of each check and the kind of error.
        for details in (*checks.values(), maintenance):
            if "error" in details:
                details["error"] = details["error"].split(":", 1)[0]
    body = {"status": status, "checks": checks, "maintenance": maintenance}
    return JsonResponse(body, status=503 if status == "down" else 200)


def _is_staff(request: HttpRequest) -> bool:
    try:
        return bool(request.user.is_authenticated and request.user.is_staff)
    except Exception:  # the database holding sessions and users may be the thing that is down
        return False
