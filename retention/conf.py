"""The RETENTION settings: defaults here, the environment mapped in settings.py.

Read them as `retention_settings.BATCH_SIZE`: every access reads settings again, so
`override_settings(RETENTION=...)` applies and nothing is frozen at import time.
"""

from __future__ import annotations

from typing import Any

from opsconsole.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Rows deleted per batch transaction.
    "BATCH_SIZE": 10_000,
    # Time budget of one purge in seconds; 0 means no budget.
    "MAX_SECONDS": 0.0,
    # A lock row (SQLite) not refreshed for this long belongs to a crashed purge and is taken over.
    "LOCK_STALE_SECONDS": 900.0,
}

retention_settings = AppSettings("RETENTION", DEFAULTS)
