"""export_csv_rows_per_s and export_peak_rss_mb: the export engine on 1M outbox rows on PostgreSQL.

The export runs in a child process through `export_job_run` (the worker's code path: count,
COPY into a temp file with sha256, move into storage, mark completed), timed end to end
from inside the child. The baseline is a bare `COPY (SELECT <same columns> FROM
notification_outbox ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)` in the same run, read
and discarded: the same rows in the same order, i.e. the very bytes of our file (checked
by sha256 once per run, untimed). An unordered COPY is measured too and reported in the
notes, since ordering by primary key alone costs 10-30 % here. Peak RSS is the child's own
ru_maxrss, at 100k rows and at all rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg

from bench import BenchContext, Figure

DB_NAME = "ops_bench_export"
ROOT = Path(__file__).resolve().parent.parent
BASE_TS = "2026-01-01 00:00:00+00"

COLUMNS = (
    "id, created_at, updated_at, channel_id, subject, body, payload, status, last_error, attempts, "
    "next_attempt_at, sent_at, message_id, idempotency_key"
)

CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, time
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")
    django.setup()
    from django.core.files.storage import default_storage
    from exports import services
    services.enqueue.export_job_enqueue = lambda job_id: None  # the child is the worker
    args = json.loads(sys.argv[1])
    job, _ = services.export_job_create(job_type="notifications.outbox", format=args["format"],
                                        filter_params=args["filters"], requested_by=args["label"])
    started = time.perf_counter()
    job = services.export_job_run(job_id=job.pk, force_generic=args["generic"])
    elapsed = time.perf_counter() - started
    assert job.status == "completed", job.error_message
    default_storage.delete(job.file)
    print(json.dumps({"elapsed": elapsed, "rows": job.rows_written, "bytes": job.file_size, "sha256": job.sha256,
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    """
)


def _admin_url(ctx: BenchContext) -> str:
    return ctx.postgres_url.rstrip("/") + "/postgres"


def _db_url(ctx: BenchContext) -> str:
    return ctx.postgres_url.rstrip("/") + f"/{DB_NAME}"


def _env(ctx: BenchContext) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_db_url(ctx),
        OPSCONSOLE_VAR_DIR=str(ctx.scratch / "export-var"),
        CELERY_TASK_ALWAYS_EAGER="0",
        LOG_LEVEL="WARNING",
        # Progress is written once a second as in production; the row cap must not bite.
        OPSCONSOLE_EXPORT_ROW_CAP=str(50_000_000),
    )
    return env


def prepare(ctx: BenchContext, rows: int) -> None:
    """Create and migrate the bench database; load `rows` outbox rows unless already there."""
    with psycopg.connect(_admin_url(ctx), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=_env(ctx), check=True)
    with psycopg.connect(_db_url(ctx), autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM notification_outbox").fetchone()[0]
        if have == rows:
            return
        conn.execute("TRUNCATE notification_attempts, notification_outbox, notification_channels CASCADE")
        conn.execute(
            "INSERT INTO notification_channels (created_at, updated_at, name, channel_type, target, active, config,"
            " secret, max_attempts, consecutive_failures, last_error, paused, disabled_reason)"
            " VALUES (now(), now(), 'bench', 'log', 'ops', true, '{}', '', 8, 0, '', false, '')"
        )
        channel_id = conn.execute("SELECT id FROM notification_channels").fetchone()[0]
        conn.execute(
            f"""
            INSERT INTO notification_outbox (created_at, updated_at, channel_id, subject, body, payload, status,
                last_error, attempts, retry_base, next_attempt_at, sent_at, message_id, idempotency_key)
            SELECT %(base)s::timestamptz + g * interval '1 second' + (g %% 997) * interval '1 microsecond',
                   %(base)s::timestamptz + g * interval '1 second' + interval '2.5 seconds',
                   {channel_id},
                   'Disk usage on host-' || (g %% 500) || ' above 90%%',
                   'Host host-' || (g %% 500) || E' reports disk usage of ' || (g %% 100) || E'%%,\\nplease check.',
                   jsonb_build_object('host', 'host-' || (g %% 500), 'usage', g %% 100,
                                      'tags', jsonb_build_array('disk', 'prod')),
                   CASE WHEN g %% 10 = 0 THEN 'failed' ELSE 'sent' END,
                   CASE WHEN g %% 10 = 0 THEN 'HTTP 500 from receiver' END,
                   1 + (g %% 3),
                   0,
                   NULL,
                   CASE WHEN g %% 10 = 0 THEN NULL ELSE %(base)s::timestamptz + g * interval '1 second' END,
                   'msg_' || md5(g::text),
                   NULL
            FROM generate_series(1, %(rows)s) AS g
            """,
            {"base": BASE_TS, "rows": rows},
        )
        conn.execute("VACUUM ANALYZE notification_outbox")


def bare_copy(ctx: BenchContext, *, ordered: bool = True, digest: bool = False) -> tuple[float, int, int, str]:
    """The baseline: the database's own CSV of the same rows and columns, read and discarded."""
    import hashlib

    order = " ORDER BY id" if ordered else ""
    sha = hashlib.sha256()
    with psycopg.connect(_db_url(ctx)) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        size = 0
        with cursor.copy(
            f"COPY (SELECT {COLUMNS} FROM notification_outbox{order}) TO STDOUT WITH (FORMAT csv, HEADER)"
        ) as copy:
            for data in copy:
                size += len(data)
                if digest:
                    sha.update(data)
        elapsed = time.perf_counter() - started
        return elapsed, cursor.rowcount, size, sha.hexdigest()


def export_in_child(ctx: BenchContext, *, filters: dict, fmt: str = "csv", generic: bool = False) -> dict:
    args = json.dumps({"filters": filters, "format": fmt, "generic": generic, "label": f"bench-{time.time_ns()}"})
    done = subprocess.run(
        [sys.executable, "-c", CHILD, args], cwd=ROOT, env=_env(ctx), check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_rows_filter(rows: int) -> dict:
    """created_before that selects exactly the first `rows` rows (one second apart from BASE_TS)."""
    from datetime import datetime, timedelta

    base = datetime.fromisoformat(BASE_TS.replace(" ", "T"))
    return {"created_before": (base + timedelta(seconds=rows + 1)).isoformat()}


def run(ctx: BenchContext) -> dict[str, Figure]:
    rows = min(ctx.rows, 200_000) if ctx.quick else ctx.rows
    small = min(100_000, rows)
    prepare(ctx, rows)
    export_in_child(ctx, filters=first_rows_filter(1_000))  # warm caches and the file system

    _elapsed, _rows, _size, same_bytes_sha = bare_copy(ctx, digest=True)  # untimed: proves "the same bytes"
    runs = []
    for _ in range(1 if ctx.quick else 5):
        copy_elapsed, copy_rows, copy_bytes, _ = bare_copy(ctx)
        ours = export_in_child(ctx, filters={})
        plain_elapsed, _, _, _ = bare_copy(ctx, ordered=False)
        assert ours["rows"] == copy_rows == rows
        assert ours["sha256"] == same_bytes_sha, "the baseline must produce the export's exact bytes"
        runs.append((copy_rows / copy_elapsed, ours["rows"] / ours["elapsed"], ours, copy_bytes, rows / plain_elapsed))
    # The median run by ratio, with the baselines measured next to it.
    runs.sort(key=lambda r: r[1] / r[0])
    baseline_rate, our_rate, ours, copy_bytes, plain_rate = runs[len(runs) // 2]

    small_run = export_in_child(ctx, filters=first_rows_filter(small))
    generic_small = export_in_child(ctx, filters=first_rows_filter(small), generic=True)
    parquet_small = export_in_child(ctx, filters=first_rows_filter(small), fmt="parquet")
    rss_all = ours["maxrss_kb"] / 1024
    rss_small = small_run["maxrss_kb"] / 1024
    ratios = ", ".join(f"{o / b:.2f}x" for b, o, _, _, _ in runs)
    return {
        "export_csv_rows_per_s": Figure(
            value=our_rate,
            unit="rows/s",
            baseline=baseline_rate,
            notes=(
                f"{rows:,} notification_outbox rows, CSV {ours['bytes'] / 1e6:.0f} MB, end to end through "
                f"export_job_run (count + COPY to temp file + sha256 + move into storage) in "
                f"{ours['elapsed']:.2f}s vs bare COPY of the same query read and discarded (ORDER BY id, "
                f"byte-identical to our file: sha256 checked, {copy_bytes / 1e6:.0f} MB); "
                f"runs (ratio, median shown): {ratios}; unordered COPY {plain_rate:,.0f} rows/s "
                f"(ours {our_rate / plain_rate:.2f}x of it); Python CSV path at {small:,} rows: "
                f"{generic_small['rows'] / generic_small['elapsed']:,.0f} rows/s; "
                f"parquet at {small:,}: {parquet_small['rows'] / parquet_small['elapsed']:,.0f} rows/s"
            ),
        ),
        "export_peak_rss_mb": Figure(
            value=rss_all,
            unit="MB",
            baseline=rss_small,
            notes=(
                f"peak RSS of the exporting process (Django loaded): {rss_all:.1f} MB at {rows:,} rows, "
                f"{rss_small:.1f} MB at {small:,} rows (baseline; ratio = flatness); "
                f"Python CSV path {generic_small['maxrss_kb'] / 1024:.1f} MB, "
                f"parquet {parquet_small['maxrss_kb'] / 1024:.1f} MB at {small:,} rows"
            ),
        ),
    }
