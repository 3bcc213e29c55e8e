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

# Runs in the child process with DATABASE_URL pointing at the bench database; argv[1] is
# the row count. Rows are cloned in SQL from one row made through the ORM, so columns
# added later (with Django-side defaults) are filled without touching this file.
CHILD = """
import json, statistics, sys, time

import django

django.setup()
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from notifications.models import NotificationAttempt, NotificationChannel, NotificationOutbox

ROWS, REPEATS = int(sys.argv[1]), int(sys.argv[2])
qn = connection.ops.quote_name
MINUTE = "(g % 43200) * interval '1 minute'"


def clone(model, template, overrides):
    table = qn(model._meta.db_table)
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    values = [overrides.get(c, "t." + qn(c)) for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(map(qn, columns))}) SELECT {', '.join(values)} "
            f"FROM {table} t, generate_series(1, {ROWS}) g WHERE t.id = {int(template.pk)}"
        )
    model.objects.filter(pk=template.pk).delete()


NotificationChannel.objects.bulk_create(
    NotificationChannel(
        name=f"channel-{n}",
        channel_type="webhook",
        target=f"https://example.test/{n}",
        consecutive_failures=n if n % 5 == 0 else 0,
        last_error="HTTP 503" if n % 5 == 0 else "",
    )
    for n in range(1, 21)
)
first_channel = NotificationChannel.objects.order_by("id").first().pk
template = NotificationOutbox.objects.create(channel_id=first_channel, body="body", payload={"k": 1})
clone(NotificationOutbox, template, {
    "created_at": f"now() - {MINUTE}",
    "channel_id": f"{first_channel} + g % 20",
    "subject": "'subject ' || g",
    "status": "CASE WHEN g % 100 < 95 THEN 'sent' WHEN g % 100 < 97 THEN 'pending' "
    "WHEN g % 100 < 98 THEN 'failed' WHEN g % 100 < 99 THEN 'sending' ELSE 'cancelled' END",
    "attempts": "1 + g % 3",
    "sent_at": f"CASE WHEN g % 100 < 95 THEN now() - {MINUTE} END",
    "message_id": "'msg_' || g",
})
first_outbox = NotificationOutbox.objects.order_by("id").first()
template = NotificationAttempt.objects.create(
    outbox=first_outbox, number=1, started_at=first_outbox.created_at, outcome="sent"
)
clone(NotificationAttempt, template, {
    "outbox_id": f"{first_outbox.pk} - 1 + g",
    "started_at": f"now() - {MINUTE}",
    "outcome": "CASE WHEN g % 100 < 95 THEN 'sent' WHEN g % 100 < 98 THEN 'retry' ELSE 'failed' END",
})
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE")

user, _ = User.objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
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
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return 1000 * statistics.median(runs)


dashboard()  # warm the connection, the caches and the templates
# Read the captured queries at once: the next request's request_started signal resets the log.
with CaptureQueriesContext(connection) as queries:
    dashboard()
captured = [(1000 * float(q["time"]), q["sql"]) for q in queries.captured_queries]
print(json.dumps({
    "dashboard_ms": median_ms(dashboard),
    "plain_ms": median_ms(plain_index),
    "queries": len(captured),
    "sql_ms": sum(ms for ms, _ in captured),
    "slowest": [f"{ms:.0f} ms {sql[:70]}" for ms, sql in sorted(captured, reverse=True)[:3]],
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
        "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
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
        "dashboard_render_ms": Figure(
            value=figures["dashboard_ms"],
            unit="ms",
            baseline=figures["plain_ms"],
            notes=(
                f"{rows:,} outbox rows + {rows:,} attempts on PostgreSQL; {figures['queries']} queries, "
                f"{figures['sql_ms']:.0f} ms in SQL (slowest: {'; '.join(figures['slowest'])}); "
                "baseline: the admin index without the figures"
            ),
        )
    }
