"""Per-channel delivery rate limits, counted in the shared cache so every process sees one count."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache

WINDOW_SECONDS = 60


def _window() -> int:
    return int(time.time() // WINDOW_SECONDS)


def rate_limit_take(*, channel_id: int, per_minute: int | None) -> bool:
    """Count one delivery on the channel in this minute's window; False when the window is full."""
    if not per_minute:
        return True
    key = f"notifications:rate:{channel_id}:{_window()}"
    cache = caches["default"]
    with _serialised(cache):
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
    return count <= per_minute


@contextlib.contextmanager
def _serialised(cache) -> Iterator[None]:
    """Redis and memcached increment atomically. Django's file cache reads and rewrites the
    file, so two deliveries at once (pool threads, or the worker and a test send) could both
    read n and both write n+1; an exclusive flock on a file beside it serialises them across
    threads and processes on the embedded default."""
    if not isinstance(cache, FileBasedCache):
        yield
        return
    os.makedirs(cache._dir, exist_ok=True)
    with open(os.path.join(cache._dir, "ratelimit.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def next_window_start() -> datetime:
    """When the current rate-limit window ends."""
    return datetime.fromtimestamp((_window() + 1) * WINDOW_SECONDS, tz=UTC)
