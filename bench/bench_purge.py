"""purge_rows_per_s: the retention engine against one raw DELETE of the same rows.

1M expired rows among 1.1M in maintenance_events (PostgreSQL, a bench database of its
own, migrated), bulk-loaded with INSERT … SELECT generate_series. The same data is
loaded twice: once deleted by one raw `DELETE … WHERE at < cutoff` (the baseline), once
purged through the engine (`purge_now`, keyset batches of RETENTION BATCH_SIZE) in a
child process, which reports its own time, longest batch transaction and peak RSS.
Start-up of the child (imports, django.setup) is not in the timed part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench import BenchContext, Figure

DB_NAME = "ops_bench_purge"
DAYS_TO_KEEP = 30
ROUNDS = 5
ROUNDS_QUICK = 1
BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(conn, *, expired: int, young: int, now: datetime) -> None:
    """Fresh table: `expired` rows 60 days old (ids first, as in real life), then `young` rows 1 day old."""
    with conn.cursor() as cur:
        cur.execute("TRUNCATE maintenance_events RESTART IDENTITY")
        insert = (
            "INSERT INTO maintenance_events (from_mode, to_mode, reason, message, actor_name, source, at) "
            "SELECT 'normal', 'read_only', 'bench row ' || i, '', '', 'bench', %s + i * interval '1 millisecond' "
            "FROM generate_series(1, %s) AS i"
        )
        cur.execute(insert, [now - timedelta(days=60), expired])
        cur.execute(insert, [now - timedelta(days=1), young])
    conn.execute("VACUUM ANALYZE maintenance_events")
    # Write the load out now, so no checkpoint of it lands in a timed delete.
    conn.execute("CHECKPOINT")


def _count(conn) -> int:
    return conn.execute("SELECT count(*) FROM maintenance_events").fetchone()[0]


def run(ctx: BenchContext) -> dict[str, Figure]:
    import psycopg

    expired = 100_000 if ctx.quick else ctx.rows
    young = expired // 10
    server = ctx.postgres_url.rstrip("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    url = f"{server}/{DB_NAME}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "opsconsole.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=BASE_DIR, env=env, check=True)

    now = datetime.now(UTC)
    cutoff = (now - timedelta(days=DAYS_TO_KEEP)).replace(microsecond=0)
    raw_times: list[float] = []
    engine_outcomes: list[dict] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO data_retention_policies (created_at, updated_at, category, days_to_keep, enabled, "
            "description, legal_hold) VALUES (now(), now(), 'maintenance.events', %s, true, 'bench', false)",
            [DAYS_TO_KEEP],
        )
        # Alternate the two, ROUNDS times each, and keep the best of each: a checkpoint or
        # autovacuum landing in one timing would otherwise decide the ratio.
        for _round in range(ROUNDS_QUICK if ctx.quick else ROUNDS):
            _load(conn, expired=expired, young=young, now=now)
            started = time.perf_counter()
            deleted_raw = conn.execute("DELETE FROM maintenance_events WHERE at < %s", [cutoff]).rowcount
            raw_times.append(time.perf_counter() - started)
            assert deleted_raw == expired, (deleted_raw, expired)

            _load(conn, expired=expired, young=young, now=now)
            child = subprocess.run(
                [sys.executable, "-m", "bench.bench_purge", "--child"],
                cwd=BASE_DIR,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            outcome = json.loads(child.stdout.strip().splitlines()[-1])
            assert outcome["deleted"] == expired, outcome
            assert _count(conn) == young
            engine_outcomes.append(outcome)

    raw_seconds = min(raw_times)
    best = min(engine_outcomes, key=lambda outcome: outcome["seconds"])
    engine_rate = best["deleted"] / best["seconds"]
    raw_rate = expired / raw_seconds
    longest_batch_ms = max(outcome["longest_batch_ms"] for outcome in engine_outcomes)
    peak_rss_mb = max(outcome["peak_rss_mb"] for outcome in engine_outcomes)
    engine_times = ", ".join(f"{outcome['seconds']:.2f}" for outcome in engine_outcomes)
    notes = (
        f"{expired:,} expired of {expired + young:,} maintenance_events rows, best of {len(raw_times)}; "
        f"engine {best['seconds']:.2f}s ({engine_times}) in "
        f"{best['batches']} batches of {best['batch_size']:,}; longest batch transaction {longest_batch_ms:.0f} ms; "
        f"purging process peak RSS {peak_rss_mb:.0f} MB incl. Django start-up; "
        f"raw DELETE {raw_seconds:.2f}s ({', '.join(f'{t:.2f}' for t in raw_times)})"
    )
    return {"purge_rows_per_s": Figure(value=engine_rate, unit="rows/s", baseline=raw_rate, notes=notes)}


def _child() -> None:
    """In the purging process: run the engine once, print its figures as one JSON line."""
    import resource

    import django

    django.setup()
    from retention.conf import retention_settings
    from retention.services import purge_now

    batches = 0

    def count_batches(run) -> None:
        nonlocal batches
        batches += 1

    started = time.perf_counter()
    result = purge_now(categories=["maintenance.events"], trigger="command", actor_name="bench", progress=count_batches)
    seconds = time.perf_counter() - started
    (run,) = result.runs
    assert run.status == "completed", (run.status, run.error)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "deleted": run.deleted,
                "matched": run.matched,
                # progress() is called once after the count, once per batch and once at the end.
                "batches": max(0, batches - 2),
                "batch_size": retention_settings.BATCH_SIZE,
                "longest_batch_ms": result.longest_batch_seconds * 1000,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        _child()
    else:
        print(json.dumps({k: v.as_dict() for k, v in run(BenchContext()).items()}, indent=2))
