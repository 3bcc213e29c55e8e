"""metrics_scrape_ms and health_ms: GET /metrics and GET /health on ctx.rows outbox rows (PostgreSQL + Redis).

Baselines, measured in the same child process on the same database:
- metrics_scrape_ms: a bare `SELECT count(*)` of the outbox, the least any exact figure
  over the table costs (the scrape counts it by status, plus the small tables and the
  counter store);
- health_ms: GET /favicon.ico, a view that does nothing (a redirect) behind the same
  middleware, so the ratio is what the six checks add to a request.

The rows are cloned in SQL from one row made through the ORM (as bench_dashboard does),
with 5 % of the outbox still open and 20 channels; the counter store holds a day's worth
of series. The cache and the broker are Redis (ctx.redis_url), as at scale.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench import BENCH_DIR, BenchContext, Figure

DB_NAME = "bench_metrics"
REPEATS = 15

CHILD = """
import json, statistics, sys, time

import django

django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from notifications.metrics import deliveries_count
from notifications.models import NotificationChannel, NotificationOutbox
from opsconsole import liveness

ROWS, REPEATS = int(sys.argv[1]), int(sys.argv[2])
qn = connection.ops.quote_name

NotificationChannel.objects.bulk_create(
    NotificationChannel(name=f"channel-{n}", channel_type="webhook", target=f"https://example.test/{n}",
                        paused=n % 10 == 0, active=n != 20)
    for n in range(1, 21)
)
first_channel = NotificationChannel.objects.order_by("id").first().pk
template = NotificationOutbox.objects.create(channel_id=first_channel, body="body", payload={"k": 1})
table = qn(NotificationOutbox._meta.db_table)
columns = [f.column for f in NotificationOutbox._meta.concrete_fields if not f.primary_key]
overrides = {
    "created_at": "now() - (g % 43200) * interval '1 minute'",
    "channel_id": f"{first_channel} + g % 20",
    "status": "CASE WHEN g % 100 < 95 THEN 'sent' WHEN g % 100 < 97 THEN 'pending' "
    "WHEN g % 100 < 98 THEN 'failed' WHEN g % 100 < 99 THEN 'sending' ELSE 'cancelled' END",
    "next_attempt_at": "CASE WHEN g % 100 BETWEEN 95 AND 96 THEN now() + (g % 600) * interval '1 second' END",
    "message_id": "'msg_' || g",
}
values = [overrides.get(c, "t." + qn(c)) for c in columns]
with connection.cursor() as cursor:
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(map(qn, columns))}) SELECT {', '.join(values)} "
        f"FROM {table} t, generate_series(1, {ROWS}) g WHERE t.id = {int(template.pk)}"
    )
template.delete()
for batch in range(200):  # many shards and series, as after a day of deliveries
    deliveries_count(("webhook" if n % 3 else "email", ("sent", "retry", "failed")[n % 3], (n % 50) / 10)
                     for n in range(batch, batch + 50))
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE")
liveness.worker_beat("celery@bench")
liveness.beat_ticked()

client = Client()


def scrape():
    assert client.get("/metrics").status_code == 200


def health():
    assert client.get("/health").status_code == 200


def noop_view():
    assert client.get("/favicon.ico").status_code == 301


def bare_count():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        cursor.fetchone()


def median_ms(fn):
    fn()
    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return 1000 * statistics.median(runs)


scrape()
with CaptureQueriesContext(connection) as queries:
    scrape()
captured = [(1000 * float(q["time"]), q["sql"]) for q in queries.captured_queries]
print(json.dumps({
    "scrape_ms": median_ms(scrape),
    "count_ms": median_ms(bare_count),
    "health_ms": median_ms(health),
    "noop_ms": median_ms(noop_view),
    "queries": len(captured),
    "slowest": [f"{ms:.0f} ms {sql[:60]}" for ms, sql in sorted(captured, reverse=True)[:2]],
}))
"""


def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _recreate_database(ctx: BenchContext, *, drop_only: bool = False) -> None:
    with psycopg.connect(_database_url(ctx.postgres_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {DB_NAME}")


def run(ctx: BenchContext) -> dict[str, Figure]:
    rows = 100_000 if ctx.quick else ctx.rows
    _recreate_database(ctx)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(ctx.postgres_url, DB_NAME),
        "CACHE_URL": ctx.redis_url,
        "CELERY_BROKER_URL": ctx.redis_url,
        "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
        "OPSCONSOLE_METRICS_TOKEN": "",
    }
    root = BENCH_DIR.parent
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(rows), str(REPEATS)], cwd=root, env=env, capture_output=True, text=True
        )
        if child.returncode:
            raise RuntimeError(f"the measuring process failed:\n{child.stderr[-3000:]}")
    finally:
        _recreate_database(ctx, drop_only=True)
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "metrics_scrape_ms": Figure(
            value=figures["scrape_ms"],
            unit="ms",
            baseline=figures["count_ms"],
            notes=(
                f"{rows:,} outbox rows on PostgreSQL, {figures['queries']} queries "
                f"(slowest: {'; '.join(figures['slowest'])}); baseline: a bare SELECT count(*) of the outbox"
            ),
        ),
        "health_ms": Figure(
            value=figures["health_ms"],
            unit="ms",
            baseline=figures["noop_ms"],
            notes=f"{rows:,} outbox rows, Redis cache and broker; baseline: a do-nothing view (the favicon redirect)",
        ),
    }
