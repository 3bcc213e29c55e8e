"""shield_overhead_pct: what ReadOnlyShieldMiddleware adds to a cheap request.

The same GET goes through two WSGI handlers built from the project's real MIDDLEWARE,
one with the shield and one without, in interleaved rounds in the same process, so a
noisy machine slows both alike. The request is the cheapest one possible (a view that
returns a constant), so the percentage is the worst case; an anonymous GET /system/ (a
DRF view) is reported in the notes. Django runs in a child process with its own SQLite
database and file cache under var/bench, so the bench never touches dev data.
"""

from __future__ import annotations

import gc
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django.http import HttpResponse
from django.urls import include, path

SHIELD = "maintenance.middleware.ReadOnlyShieldMiddleware"


def ping(request):
    return HttpResponse(b"pong", content_type="text/plain")


def __getattr__(name: str):
    # The bench's URLconf (ROOT_URLCONF=bench.bench_shield in the child): a constant view
    # beside the project's real URLs, built lazily because `make bench` imports this module
    # before Django is set up.
    if name == "urlpatterns":
        return [path("bench/ping", ping), path("", include("opsconsole.urls"))]
    raise AttributeError(name)


def run(ctx) -> dict:
    from bench import Figure

    scratch = Path(ctx.scratch) / "shield"
    scratch.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="opsconsole.settings",
        DATABASE_URL=f"sqlite:///{scratch / 'shield.sqlite3'}",
        OPSCONSOLE_CACHE_DIR=str(scratch / "cache"),
        DEBUG="0",
        BENCH_QUICK="1" if ctx.quick else "",
    )
    env.pop("CACHE_URL", None)  # the file cache: the memo makes the cache backend matter little here
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_shield"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench_shield child failed:\n{result.stdout}\n{result.stderr}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    notes = (
        f"shield __call__ alone {data['call_ns']:.0f} ns/request in normal mode; "
        f"cheap view: {data['with_us']:.1f} us with vs {data['without_us']:.1f} us without "
        f"(baseline; CPU us/request); anonymous GET /system/ (DRF): {data['drf_pct']:+.2f} %; "
        f"read_only mode GET: {data['read_only_pct']:+.2f} %; queries/request: normal "
        f"{data['queries_normal']:g}, read_only GET {data['queries_read_only']:g}, read_only POST "
        f"{data['queries_read_only_post']:g}; {data['rounds']} rounds x {data['per_round']} requests"
    )
    return {
        "shield_overhead_pct": Figure(
            value=data["overhead_pct"],
            unit="%",
            baseline=data["without_us"],
            ratio=data["with_us"] / data["without_us"],
            notes=notes,
        )
    }


# --- child process -------------------------------------------------------------


def _environ(method: str, path_info: str) -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path_info,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": "0",
    }


def _handler(middleware: list[str]):
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()


def _call(handler, method: str, path_info: str) -> str:
    status_holder = []

    def start_response(status, headers, exc_info=None):
        status_holder.append(status)

    body = handler(_environ(method, path_info), start_response)
    for _chunk in body:
        pass
    body.close()
    return status_holder[0]


def _timed(handler, path_info: str, n: int) -> float:
    # CPU time of this process: on a shared, loaded machine wall time mostly measures the
    # other processes; the shield's cost is CPU (it does no I/O but a cache read per second).
    started = time.process_time()
    for _ in range(n):
        _call(handler, "GET", path_info)
    return (time.process_time() - started) / n


def _compare(with_shield, without_shield, path_info: str, rounds: int, per_round: int) -> tuple[float, float, float]:
    """Median per-request seconds with and without, and the median of per-round overheads (%)."""
    for handler in (with_shield, without_shield):
        _timed(handler, path_info, max(200, per_round // 10))  # warm up
    with_times, without_times, overheads = [], [], []
    for i in range(rounds):
        gc.collect()
        if i % 2 == 0:
            w, wo = _timed(with_shield, path_info, per_round), _timed(without_shield, path_info, per_round)
        else:
            wo, w = _timed(without_shield, path_info, per_round), _timed(with_shield, path_info, per_round)
        with_times.append(w)
        without_times.append(wo)
        overheads.append((w - wo) / wo * 100)
    return statistics.median(with_times), statistics.median(without_times), statistics.median(overheads)


def _queries_per_request(handler, method: str, path_info: str, n: int = 200) -> float:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _call(handler, method, path_info)
    with CaptureQueriesContext(connection) as captured:
        for _ in range(n):
            _call(handler, method, path_info)
    return len(captured.captured_queries) / n


def _isolated_call_ns(n: int) -> float:
    """The shield's own cost in normal mode: its __call__ around a view that does nothing."""
    from django.test import RequestFactory

    from maintenance.middleware import ReadOnlyShieldMiddleware

    request = RequestFactory().get("/bench/ping")
    response = HttpResponse()

    def view(_request):
        return response

    shield = ReadOnlyShieldMiddleware(view)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            shield(request)
        shielded = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(n):
            view(request)
        bare = time.perf_counter() - started
        best = min(best, (shielded - bare) / n * 1e9)
    return best


def child() -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings

    call_command("migrate", verbosity=0, interactive=False)
    from maintenance.models import MaintenanceEvent, MaintenanceState
    from maintenance.services import maintenance_set_mode
    from maintenance.state import forget_local_state

    MaintenanceEvent.objects.all().delete()
    MaintenanceState.objects.all().delete()
    forget_local_state()

    quick = os.environ.get("BENCH_QUICK") == "1"
    rounds, per_round = (10, 1000) if quick else (60, 2000)
    result: dict = {"rounds": rounds, "per_round": per_round}
    with override_settings(ROOT_URLCONF="bench.bench_shield"):
        full = list(settings.MIDDLEWARE)
        assert SHIELD in full, "the shield is not in settings.MIDDLEWARE"
        bare = [m for m in full if m != SHIELD]
        with_shield, without_shield = _handler(full), _handler(bare)
        assert _call(with_shield, "GET", "/bench/ping").startswith("200")

        w, wo, pct = _compare(with_shield, without_shield, "/bench/ping", rounds, per_round)
        result.update(with_us=w * 1e6, without_us=wo * 1e6, overhead_pct=pct)
        result["queries_normal"] = _queries_per_request(with_shield, "GET", "/bench/ping")
        result["call_ns"] = _isolated_call_ns(20_000 if quick else 200_000)
        _w, _wo, result["drf_pct"] = _compare(
            with_shield, without_shield, "/system/", max(4, rounds // 3), max(500, per_round // 2)
        )

        maintenance_set_mode(mode="read_only", reason="bench", source="command")
        forget_local_state()
        _w, _wo, result["read_only_pct"] = _compare(
            with_shield, without_shield, "/bench/ping", max(4, rounds // 3), max(500, per_round // 2)
        )
        result["queries_read_only"] = _queries_per_request(with_shield, "GET", "/bench/ping")
        assert _call(with_shield, "POST", "/bench/ping").startswith("503")
        result["queries_read_only_post"] = _queries_per_request(with_shield, "POST", "/bench/ping")
        maintenance_set_mode(mode="normal", reason="bench done", source="command")
    return result


if __name__ == "__main__":
    print(json.dumps(child()))
