"""Per-channel delivery rate limits, counted in the shared cache so every process sees one count."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.core.cache import cache

WINDOW_SECONDS = 60


def _window() -> int:
    return int(time.time() // WINDOW_SECONDS)


def rate_limit_take(*, channel_id: int, per_minute: int | None) -> bool:
    """Count one delivery on the channel in this minute's window; False when the window is full."""
    if not per_minute:
        return True
    key = f"notifications:rate:{channel_id}:{_window()}"
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count <= per_minute


def next_window_start() -> datetime:
    """When the current rate-limit window ends."""
    return datetime.fromtimestamp((_window() + 1) * WINDOW_SECONDS, tz=UTC)
