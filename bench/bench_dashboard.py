"""dashboard_render_ms: the admin index with the dashboard on ctx.rows outbox rows and as many attempts.

Baseline: the same admin index without the dashboard's figures (the admin's own app list
and recent actions), rendered in the same process on the same database. The rows are
bulk-loaded with INSERT … SELECT generate_series (5 % of the outbox still open, 30 days
of attempts), then the page is requested through Django's test client in a child
process, so this harness's own Django settings never point at the bench database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench import BENCH_DIR, BenchContext, Figure

DB_NAME = "bench_dashboard"
REPEATS = 9

LOAD_SQL = """
TRUNCATE notification_attempts, notification_outbox, notification_channels RESTART IDENTITY CASCADE;
INSERT INTO notification_channels (created_at, updated_at, name, channel_type, target, active, config, secret,
    max_attempts, consecutive_failures, last_error, paused, disabled_reason)
SELECT now(), now(), 'channel-' || g, 'webhook', 'https://example.test/' || g, true, '{}', '', 8,
    CASE WHEN g % 5 = 0 THEN g ELSE 0 END, CASE WHEN g % 5 = 0 THEN 'HTTP 503' ELSE '' END, false, ''
FROM generate_series(1, 20) g;
INSERT INTO notification_outbox (created_at, updated_at, channel_id, subject, body, payload, status, attempts,
    sent_at, message_id)
SELECT now() - (g % 43200) * interval '1 minute', now(), 1 + g % 20, 'subject ' || g, 'body', '{"k": 1}',
    CASE WHEN g % 100 < 95 THEN 'sent' WHEN g % 100 < 97 THEN 'pending' WHEN g % 100 < 98 THEN 'failed'
         WHEN g % 100 < 99 THEN 'sending' ELSE 'cancelled' END,
    1 + g % 3, CASE WHEN g % 100 < 95 THEN now() - (g % 43200) * interval '1 minute' END, 'msg_' || g
FROM generate_series(1, %(rows)s) g;
INSERT INTO notification_attempts (outbox_id, number, started_at, duration_ms, outcome, http_status, error,
    response_excerpt)
SELECT g, 1, now() - (g % 43200) * interval '1 minute', 20,
    CASE WHEN g % 100 < 95 THEN 'sent' WHEN g % 100 < 98 THEN 'retry' ELSE 'failed' END, 200, '', ''
FROM generate_series(1, %(rows)s) g;
"""

# Runs in the child process, with DATABASE_URL pointing at the bench database.
MEASURE = f"""
import json, statistics, time
import django
django.setup()
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

user, _ = User.objects.get_or_create(username="bench", defaults={{"is_staff": True, "is_superuser": True}})
client = Client()
client.force_login(user)

def plain_index():
    request = RequestFactory().get("/admin/")
    request.user = user
    admin.site.index(request).render()

def dashboard():
    assert client.get("/admin/").status_code == 200

def median_ms(fn):
    fn()
    runs = []
    for _ in range({REPEATS}):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return 1000 * statistics.median(runs)

dashboard()  # warm the connection, the caches and the templates
# Read the captured queries at once: the next request's request_started signal resets the log.
with CaptureQueriesContext(connection) as queries:
    dashboard()
captured = list(queries.captured_queries)
print(json.dumps({{
    "dashboard_ms": median_ms(dashboard),
    "plain_ms": median_ms(plain_index),
    "queries": len(captured),
    "sql_ms": 1000 * sum(float(q["time"]) for q in captured),
}}))
"""


def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def run(ctx: BenchContext) -> dict[str, Figure]:
    rows = 100_000 if ctx.quick else ctx.rows
    with psycopg.connect(_database_url(ctx.postgres_url, "postgres"), autocommit=True) as admin_conn:
        admin_conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        admin_conn.execute(f"CREATE DATABASE {DB_NAME}")
    url = _database_url(ctx.postgres_url, DB_NAME)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "opsconsole.settings"}
    root = BENCH_DIR.parent
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in filter(str.strip, LOAD_SQL.split(";")):
            conn.execute(statement.replace("%(rows)s", str(int(rows))))
        conn.execute("VACUUM ANALYZE")
    result = subprocess.run(
        [sys.executable, "-c", MEASURE], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    with psycopg.connect(_database_url(ctx.postgres_url, "postgres"), autocommit=True) as admin_conn:
        admin_conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return {
        "dashboard_render_ms": Figure(
            value=figures["dashboard_ms"],
            unit="ms",
            baseline=figures["plain_ms"],
            notes=(
                f"{rows:,} outbox rows + {rows:,} attempts on PostgreSQL; {figures['queries']} queries, "
                f"{figures['sql_ms']:.0f} ms in SQL; baseline: the admin index without the figures"
            ),
        )
    }
