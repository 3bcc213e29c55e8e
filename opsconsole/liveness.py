"""Who is alive: workers and beat leave heartbeats in the shared cache; /health and metrics read them.

The cache is shared by every process of the deployment (the file cache locally, Redis at
scale), so any web replica sees every worker. A worker writes `{hostname: unix time}` into
one key every HEARTBEAT_SECONDS from a daemon thread of its main process; beat stamps its
last tick. Reading costs one cache get and writes nothing.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache import caches

logger = logging.getLogger(__name__)

WORKERS_KEY = "opsconsole:liveness:workers"
BEAT_KEY = "opsconsole:liveness:beat"
HEARTBEAT_SECONDS = 10.0
# A worker not seen for this long is gone (three missed heartbeats).
WORKER_DOWN_AFTER = 30.0
KEEP_SECONDS = 24 * 3600


def worker_beat(hostname: str, *, now: float | None = None) -> None:
    """Record that the worker `hostname` is alive now (drops entries a day old)."""
    now = time.time() if now is None else now
    cache = caches["default"]
    seen = cache.get(WORKERS_KEY) or {}
    seen = {name: ts for name, ts in seen.items() if now - ts < KEEP_SECONDS}
    seen[hostname] = now
    cache.set(WORKERS_KEY, seen, timeout=None)


def worker_gone(hostname: str) -> None:
    """A worker that stops cleanly takes itself off the list at once."""
    cache = caches["default"]
    seen = cache.get(WORKERS_KEY) or {}
    if seen.pop(hostname, None) is not None:
        cache.set(WORKERS_KEY, seen, timeout=None)


def workers_alive(*, now: float | None = None) -> dict[str, float]:
    """Workers seen within WORKER_DOWN_AFTER seconds, with the age of their last heartbeat."""
    now = time.time() if now is None else now
    seen = caches["default"].get(WORKERS_KEY) or {}
    return {name: round(now - ts, 1) for name, ts in seen.items() if now - ts <= WORKER_DOWN_AFTER}


def beat_ticked(*, now: float | None = None) -> None:
    caches["default"].set(BEAT_KEY, time.time() if now is None else now, timeout=None)


def beat_last_tick() -> float | None:
    """Unix time of beat's last tick, or None if no beat ever ran against this cache."""
    return caches["default"].get(BEAT_KEY)


class WorkerHeartbeat:
    """A daemon thread in the worker's main process calling `worker_beat` until stopped."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="opsconsole-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        try:
            worker_gone(self.hostname)
        except Exception:  # noqa: BLE001 - the cache may be what is down; the entry just ages out
            logger.warning("could not take worker %s off the liveness list", self.hostname, exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worker_beat(self.hostname)
            except Exception:  # noqa: BLE001 - keep beating through a cache outage
                logger.warning("worker heartbeat not written", exc_info=True)
            self._stop.wait(HEARTBEAT_SECONDS)
