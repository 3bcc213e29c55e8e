"""source_export_rows_per_s, source_purge_rows_per_s and relay_per_s: OpsConsole on a service's own database.

A "shop" PostgreSQL database of its own holds `orders` (1M rows; BENCH_QUICK: 100k) and
OpsConsole's database of its own is migrated; the source is configured through the
environment (OPSCONSOLE_SOURCE_SHOP_URL), as in production. Every measured run is a child
process (Django start-up untimed) on the worker's code path:

- export: `export_job_run` of the registered table `shop.orders` as CSV (count + COPY of the
  filtered query on the source + sha256 + storage) vs a bare `COPY (SELECT <same columns>
  FROM orders ORDER BY id) TO STDOUT` of the same rows, read and discarded.
- purge: `purge_now(categories=["shop.orders"])`, keyset batches on the primary key with the
  table's purge_condition, vs one raw `DELETE … WHERE created_at < cutoff AND status IN (…)`;
  1M expired of 1.1M rows, best of several rounds each.
- relay: rows a service committed to `opsconsole_outbox` moved into the notifications outbox
  and delivered (log channel) by the relay and the delivery engine, per second; then the
  p50 commit -> delivery start (first attempt) with a real worker and beat, one row at a time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bench import BenchContext, Figure

SHOP_DB = "oc_src_bench_shop"
CONSOLE_DB = "oc_src_bench_console"
ROOT = Path(__file__).resolve().parent.parent
COLUMNS = "id, created_at, status, total, customer"
PURGE_ROUNDS = 3

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import django
    django.setup()
    args = json.loads(sys.argv[1])
    from sources.models import SourceTable
    from sources.services import source_table_register
    if not SourceTable.objects.filter(source="shop").exists():
        source_table_register(source="shop", table="public.orders", timestamp_column="created_at",
                              purge_condition={"column": "status", "in": ["done", "cancelled"]})
    if args["what"] == "export":
        from django.core.files.storage import default_storage
        from exports import services
        services.enqueue.export_job_enqueue = lambda job_id: None
        job, _ = services.export_job_create(job_type="shop.orders", format="csv", filter_params={},
                                            requested_by=f"bench-{time.time_ns()}")
        started = time.perf_counter()
        job = services.export_job_run(job_id=job.pk)
        elapsed = time.perf_counter() - started
        assert job.status == "completed", job.error_message
        default_storage.delete(job.file)
        print(json.dumps({"elapsed": elapsed, "rows": job.rows_written, "sha256": job.sha256}))
    elif args["what"] == "purge":
        from retention.services import policy_upsert, purge_now
        policy_upsert(category="shop.orders", days_to_keep=30)
        started = time.perf_counter()
        result = purge_now(categories=["shop.orders"], trigger="command", actor_name="bench")
        elapsed = time.perf_counter() - started
        (run,) = result.runs
        assert run.status == "completed", run.error
        print(json.dumps({"elapsed": elapsed, "deleted": run.deleted,
                          "longest_batch_ms": result.longest_batch_seconds * 1000}))
    else:
        from notifications.delivery.dispatcher import notification_dispatch_due
        from notifications.models import NotificationChannel
        NotificationChannel.objects.get_or_create(name="orders", defaults={"channel_type": "log", "target": "ops"})
        from notifications.models import NotificationOutbox
        from sources.services import source_outbox_relay_all
        started = time.perf_counter()
        while True:
            moved = source_outbox_relay_all().relayed
            notification_dispatch_due(max_seconds=5)
            if not moved and not NotificationOutbox.objects.exclude(status="sent").exists():
                break
        elapsed = time.perf_counter() - started
        print(json.dumps({"elapsed": elapsed, "sent": NotificationOutbox.objects.filter(status="sent").count()}))
    """
)


def _url(ctx: BenchContext, name: str) -> str:
    return ctx.postgres_url.rstrip("/") + f"/{name}"


def _env(ctx: BenchContext) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _url(ctx, CONSOLE_DB),
        "OPSCONSOLE_SOURCE_SHOP_URL": _url(ctx, SHOP_DB),
        "OPSCONSOLE_VAR_DIR": str(ctx.scratch / "sources-var"),
        "OPSCONSOLE_ENV_FILE": "",
        "CELERY_BROKER_URL": ctx.redis_url,
        "CACHE_URL": ctx.redis_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "opsconsole.settings",
        "OPSCONSOLE_EXPORT_ROW_CAP": str(50_000_000),
        "OPSCONSOLE_SOURCE_RELAY_SECONDS": "1",
        "OPSCONSOLE_NOTIFY_SWEEP_SECONDS": "1",
    }


def child(ctx: BenchContext, what: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps({"what": what})],
        cwd=ROOT,
        env=_env(ctx),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{what} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare(ctx: BenchContext) -> None:
    with psycopg.connect(_url(ctx, "postgres"), autocommit=True) as admin:
        for name in (SHOP_DB, CONSOLE_DB):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=_env(ctx), check=True)
    with psycopg.connect(_url(ctx, SHOP_DB), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE orders (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, "
            "status text NOT NULL, total numeric(10, 2), customer text)"
        )
        conn.execute("CREATE INDEX orders_created_at ON orders (created_at)")
    subprocess.run(
        [sys.executable, "manage.py", "source_outbox_install", "--source", "shop"],
        cwd=ROOT,
        env=_env(ctx),
        check=True,
        capture_output=True,
    )


def load_orders(conn, *, expired: int, young: int, now: datetime) -> None:
    """`expired` done orders 60 days old (ids first, as in real life), then `young` ones a day old."""
    conn.execute("TRUNCATE orders RESTART IDENTITY")
    insert = (
        "INSERT INTO orders (created_at, status, total, customer) "
        "SELECT %s + g * interval '1 millisecond', %s, (g %% 1000) * 1.25, 'customer-' || (g %% 5000) "
        "FROM generate_series(1, %s) AS g"
    )
    conn.execute(insert, [now - timedelta(days=60), "done", expired])
    conn.execute(insert, [now - timedelta(days=1), "done", young])
    conn.execute("VACUUM ANALYZE orders")
    conn.execute("CHECKPOINT")


def bare_copy(ctx: BenchContext) -> tuple[float, int]:
    with psycopg.connect(_url(ctx, SHOP_DB)) as conn, conn.cursor() as cursor:
        cursor.execute("SET TimeZone = 'UTC'")
        started = time.perf_counter()
        with cursor.copy(
            f"COPY (SELECT {COLUMNS} FROM orders ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)"
        ) as copy:
            for _data in copy:
                pass
        return time.perf_counter() - started, cursor.rowcount


def measure_export(ctx: BenchContext, rows: int) -> Figure:
    """Each run: a bare COPY just before and just after ours (their mean is that run's baseline),
    so a busy neighbour on a shared machine weighs on both sides alike; the median run is shown."""
    runs = []
    for _ in range(1 if ctx.quick else 5):
        before_seconds, copy_rows = bare_copy(ctx)
        ours = child(ctx, "export")
        after_seconds, _ = bare_copy(ctx)
        assert ours["rows"] == copy_rows == rows, (ours, copy_rows)
        baseline_seconds = (before_seconds + after_seconds) / 2
        runs.append((copy_rows / baseline_seconds, ours["rows"] / ours["elapsed"], ours["elapsed"]))
    runs.sort(key=lambda run: run[1] / run[0])
    baseline, value, seconds = runs[len(runs) // 2]
    ratios = ", ".join(f"{ours / base:.2f}x" for base, ours, _ in runs)
    notes = (
        f"{rows:,} rows of a registered source table (shop.orders, PostgreSQL), CSV through export_job_run "
        f"(count + COPY on the source in a read-only REPEATABLE READ snapshot + sha256 + storage) in "
        f"{seconds:.2f}s vs bare COPY of the same columns ORDER BY id (mean of one just before and one just "
        f"after); runs (median shown): {ratios}"
    )
    return Figure(value=value, unit="rows/s", baseline=baseline, notes=notes)


def measure_purge(ctx: BenchContext, expired: int) -> Figure:
    young = expired // 10
    now = datetime.now(UTC)
    cutoff = (now - timedelta(days=30)).replace(microsecond=0)
    raw, ours = [], []
    with psycopg.connect(_url(ctx, SHOP_DB), autocommit=True) as conn:
        for _ in range(1 if ctx.quick else PURGE_ROUNDS):
            load_orders(conn, expired=expired, young=young, now=now)
            started = time.perf_counter()
            deleted = conn.execute(
                "DELETE FROM orders WHERE created_at < %s AND status IN ('done', 'cancelled')", [cutoff]
            ).rowcount
            raw.append(time.perf_counter() - started)
            assert deleted == expired
            load_orders(conn, expired=expired, young=young, now=now)
            outcome = child(ctx, "purge")
            assert outcome["deleted"] == expired, outcome
            ours.append(outcome)
        conn.execute("TRUNCATE orders RESTART IDENTITY")
    best = min(ours, key=lambda outcome: outcome["elapsed"])
    longest = max(outcome["longest_batch_ms"] for outcome in ours)
    notes = (
        f"{expired:,} expired of {expired + young:,} rows of shop.orders (purge_condition status in done, "
        f"cancelled), best of {len(raw)}: engine {best['elapsed']:.2f}s, longest batch transaction "
        f"{longest:.0f} ms; raw DELETE {min(raw):.2f}s"
    )
    return Figure(value=expired / best["elapsed"], unit="rows/s", baseline=expired / min(raw), notes=notes)


def measure_relay(ctx: BenchContext) -> Figure:
    rows = 2_000 if ctx.quick else 20_000
    # The channel is made by the relay child (through the ORM) before it relays.
    with psycopg.connect(_url(ctx, SHOP_DB), autocommit=True) as shop:
        shop.execute(
            "INSERT INTO opsconsole_outbox (channel, subject, body, payload) SELECT 'orders', 'Order ' || g, "
            "'Order ' || g || ' shipped.', jsonb_build_object('order_id', g) FROM generate_series(1, %s) g",
            [rows],
        )
    moved = child(ctx, "relay")
    assert moved["sent"] == rows, moved
    count = 5 if ctx.quick else 20
    latencies = relay_latencies(ctx, count=count, prefix="beat")
    woken = relay_latencies(ctx, count=count, prefix="listen", listener=True)
    notes = (
        f"{rows:,} committed opsconsole_outbox rows relayed into the notifications outbox and delivered "
        f"(log channel) in {moved['elapsed']:.2f}s; commit -> delivery start with a worker and beat "
        f"(relay every 1 s), {count} rows one at a time: p50 {statistics.median(latencies):.2f}s, "
        f"max {max(latencies):.2f}s; with the LISTEN/NOTIFY listener (manage.py source_outbox_listen) too: "
        f"p50 {statistics.median(woken):.2f}s, max {max(woken):.2f}s"
    )
    return Figure(value=rows / moved["elapsed"], unit="rows/s", notes=notes)


def relay_latencies(ctx: BenchContext, *, count: int, prefix: str, listener: bool = False) -> list[float]:
    """Commit one row at a time with real worker and beat processes (and the outbox listener);
    seconds to each row's first delivery attempt."""
    env = _env(ctx)
    import redis

    # The throughput run left a doorbell per notification in the broker (BENCH_REDIS_URL is the
    # benchmarks' own database): a worker starting now would first work through thousands of them.
    redis.Redis.from_url(ctx.redis_url).flushdb()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "opsconsole", "worker", "-l", "WARNING", "--pool", "solo",
         "--without-gossip", "--without-mingle", "-n", f"bench-relay-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "opsconsole", "beat", "-l", "WARNING",
         "-s", str(ctx.scratch / "sources-beat-schedule")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    processes = [beat, worker]
    if listener:
        processes.insert(0, subprocess.Popen(
            [sys.executable, "manage.py", "source_outbox_listen"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
    committed: dict[str, datetime] = {}
    try:
        time.sleep(8)  # start-up
        with psycopg.connect(_url(ctx, SHOP_DB), autocommit=True) as shop:
            for index in range(count):
                subject = f"latency-{prefix}-{index}"
                shop.execute(
                    "INSERT INTO opsconsole_outbox (channel, subject, body) VALUES ('orders', %s, 'x')", [subject]
                )
                committed[subject] = datetime.now(UTC)
                time.sleep(0.37)
        started: dict[str, datetime] = {}
        deadline = time.monotonic() + 60
        with psycopg.connect(_url(ctx, CONSOLE_DB), autocommit=True) as console:
            while len(started) < count and time.monotonic() < deadline:
                started = dict(
                    console.execute(
                        "SELECT o.subject, MIN(a.started_at) FROM notification_outbox o "
                        "JOIN notification_attempts a ON a.outbox_id = o.id WHERE o.subject LIKE %s "
                        "GROUP BY o.subject",
                        [f"latency-{prefix}-%"],
                    ).fetchall()
                )
                time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    assert len(started) == count, f"only {len(started)} of {count} delivered"
    return [(started[subject] - committed[subject]).total_seconds() for subject in committed]


def run(ctx: BenchContext) -> dict[str, Figure]:
    rows = 100_000 if ctx.quick else ctx.rows
    prepare(ctx)
    now = datetime.now(UTC)
    with psycopg.connect(_url(ctx, SHOP_DB), autocommit=True) as conn:
        load_orders(conn, expired=rows, young=0, now=now)
    figures = {"source_export_rows_per_s": measure_export(ctx, rows)}
    figures["source_purge_rows_per_s"] = measure_purge(ctx, rows)
    figures["relay_per_s"] = measure_relay(ctx)
    return figures


if __name__ == "__main__":
    print(json.dumps({k: v.as_dict() for k, v in run(BenchContext()).items()}, indent=2))
