"""The EXPORTS settings: defaults here, the environment mapped in settings.py.

Read them as `exports_settings.STALE_SECONDS`: every access reads settings again, so
`override_settings` applies and nothing is frozen at import time.
"""

from __future__ import annotations

from typing import Any

from opsconsole.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # A job whose rows exceed this fails with a clear message; it is never truncated.
    "ROW_CAP": 10_000_000,
    # Finished files are downloadable this many days, then the retention engine purges them.
    "EXPIRE_DAYS": 7,
    # Rows fetched per round trip on the generic (Python) path.
    "CHUNK_SIZE": 2_000,
    # Rows per Parquet row group (buffered as Arrow columns; 16k rows keeps the worker near 150 MB with pyarrow loaded).
    "PARQUET_ROW_GROUP": 16_384,
    # Seconds between progress writes (and cancellation checks) while a job runs.
    "PROGRESS_INTERVAL": 1.0,
    # A running job with no heartbeat for this long belongs to a dead worker (env OPSCONSOLE_EXPORT_STALE_SECONDS).
    "STALE_SECONDS": 60,
    # A running export writes its heartbeat this often (capped at a quarter of STALE_SECONDS),
    # from a thread of its own, so a long COUNT, COPY or upload with no row progress still shows life.
    "HEARTBEAT_SECONDS": 5.0,
    # A job re-queued this many times after its worker died is failed instead.
    "MAX_ATTEMPTS": 3,
    # Celery time limits of one export (seconds); applied when the task starts, not at import.
    "SOFT_TIME_LIMIT": 3 * 3600,
    "TIME_LIMIT": 3 * 3600 + 120,
    # Where files are written before they go to storage (default var/tmp/exports); keep it on
    # the same disk as MEDIA_ROOT so FileSystemStorage can move a finished file instead of copying.
    "TEMP_DIR": None,
    # Use PostgreSQL's COPY for CSV when the database is PostgreSQL.
    "USE_COPY": True,
    # Prefix a CSV text cell starting with = + - @ tab or CR with `'` so a spreadsheet shows it
    # instead of running it (CSV injection); turn off only for files machines, not people, read.
    "CSV_ESCAPE_FORMULAS": True,
}

exports_settings = AppSettings("EXPORTS", DEFAULTS)
