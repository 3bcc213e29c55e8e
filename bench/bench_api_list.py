"""api_list_p50_ms: GET /system/maintenance/history on PostgreSQL with 1,000,000 events.

The bench makes its own database (ops_bench_api, dropped and re-created each run),
bulk-loads MaintenanceEvent rows with INSERT ... SELECT generate_series, and times ~200
authenticated requests through the whole Django stack (middleware, token auth, DRF,
cursor pagination) at 10k rows and again at the full size, so "constant in rows" can be
read off the notes. Django runs in a child process so the database URL is set before
django.setup().
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DB_NAME = "ops_bench_api"
SMALL_ROWS = 10_000
REQUESTS = 200


def run(ctx) -> dict:
    import psycopg

    from bench import Figure

    base = ctx.postgres_url.rstrip("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    rows = min(ctx.rows, 100_000) if ctx.quick else ctx.rows
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="opsconsole.settings",
        DATABASE_URL=f"{base}/{DB_NAME}",
        OPSCONSOLE_CACHE_DIR=str(Path(ctx.scratch) / "api-list-cache"),
        DEBUG="0",
        BENCH_API_ROWS=str(rows),
        # Thousands of requests as one user: a rate the loop never reaches, so the throttle's
        # own cost is measured but it never answers 429.
        OPSCONSOLE_API_THROTTLE_READ="100000000/min",
    )
    env.pop("CACHE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_api_list"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench_api_list child failed:\n{result.stdout}\n{result.stderr}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    small, large = data["small"], data["large"]
    notes = (
        f"{large['rows']:,} rows: p50 {large['p50_ms']:.2f} ms, p95 {large['p95_ms']:.2f} ms, "
        f"{large['queries']:g} queries/request; {small['rows']:,} rows: p50 {small['p50_ms']:.2f} ms, "
        f"{small['queries']:g} queries/request; filtered ?to_mode=maintenance p50 {large['filtered_p50_ms']:.2f} ms; "
        f"page 2 via cursor p50 {large['next_p50_ms']:.2f} ms; {REQUESTS} requests each; load {data['load_s']:.1f} s"
    )
    return {"api_list_p50_ms": Figure(value=large["p50_ms"], unit="ms", notes=notes)}


# --- child process -------------------------------------------------------------


def _load(upto: int, start: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO maintenance_events
                (from_mode, to_mode, reason, message, until, retry_after, actor_id, actor_name, source, at)
            SELECT (ARRAY['normal', 'read_only', 'maintenance'])[1 + g %% 3],
                   (ARRAY['read_only', 'maintenance', 'normal'])[1 + g %% 3],
                   'bench change ' || g, '', NULL, 300, NULL, 'bench', 'api',
                   now() - make_interval(secs => %s - g)
            FROM generate_series(%s, %s) AS g
            """,
            [upto, start, upto],
        )
        cursor.execute("ANALYZE maintenance_events")


def _measure(client, path: str, n: int) -> tuple[list[float], float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(10):
        assert client.get(path).status_code == 200
    timings = []
    with CaptureQueriesContext(connection) as captured:
        for _ in range(n):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:300]
    return timings, len(captured.captured_queries) / n


def _figures(client, rows: int) -> dict:
    timings, queries = _measure(client, "/system/maintenance/history", REQUESTS)
    filtered, _ = _measure(client, "/system/maintenance/history?to_mode=maintenance", REQUESTS // 2)
    next_url = client.get("/system/maintenance/history").json()["next"]
    next_timings, _ = _measure(client, next_url.split("testserver", 1)[-1], REQUESTS // 2)
    return {
        "rows": rows,
        "p50_ms": statistics.median(timings),
        "p95_ms": statistics.quantiles(timings, n=20)[18],
        "queries": queries,
        "filtered_p50_ms": statistics.median(filtered),
        "next_p50_ms": statistics.median(next_timings),
    }


def child() -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from apitokens.services import token_create

    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)[1]}")

    rows = int(os.environ.get("BENCH_API_ROWS", "1000000"))
    started = time.monotonic()
    _load(SMALL_ROWS, 1)
    small = _figures(client, SMALL_ROWS)
    _load(rows, SMALL_ROWS + 1)
    load_s = time.monotonic() - started
    large = _figures(client, rows)
    return {"small": small, "large": large, "load_s": load_s}


if __name__ == "__main__":
    print(json.dumps(child()))
