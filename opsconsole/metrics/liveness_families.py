"""opsconsole's own families: the workers and beat seen alive through their heartbeats (opsconsole/liveness.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from opsconsole import liveness
from opsconsole.metrics.registry import register

logger = logging.getLogger(__name__)


@register
def liveness_families() -> Iterator[Metric]:
    try:
        alive = liveness.workers_alive()
        last_tick = liveness.beat_last_tick()
    except Exception:  # noqa: BLE001 - the cache may be down: the database's figures still count
        logger.warning("metrics: the shared cache is unreachable; workers and beat left out", exc_info=True)
        return
    yield GaugeMetricFamily(
        "opsconsole_workers",
        f"Celery workers that sent a heartbeat in the last {liveness.WORKER_DOWN_AFTER:.0f} s.",
        value=len(alive),
    )
    yield GaugeMetricFamily(
        "opsconsole_beat_last_run_timestamp_seconds",
        "Unix time of Celery beat's last tick (0: never seen).",
        value=last_tick or 0.0,
    )
