"""Retention settings: the RETENTION dict of settings.py over these defaults.

Read on every call (not cached at import), so `override_settings(RETENTION=...)` works.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Rows deleted per batch transaction.
    "BATCH_SIZE": 10_000,
    # Time budget of one purge in seconds; 0 means no budget.
    "MAX_SECONDS": 0.0,
    # A lock row (SQLite) not refreshed for this long belongs to a crashed purge and is taken over.
    "LOCK_STALE_SECONDS": 900.0,
}


def retention_setting(name: str) -> Any:
    """The value of RETENTION[name], or its default."""
    if name not in DEFAULTS:
        raise KeyError(f"unknown retention setting {name!r}")
    return {**DEFAULTS, **getattr(settings, "RETENTION", {})}[name]
