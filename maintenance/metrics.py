"""The maintenance family of /metrics: 1 for the mode in force, 0 for the others."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from maintenance.models import Mode
from maintenance.selectors import maintenance_snapshot
from opsconsole.metrics.registry import register


@register
def maintenance_families() -> Iterator[Metric]:
    # Read like /health: from the shared cache (or the database on a miss), writing nothing.
    current = maintenance_snapshot(publish=False).mode
    family = GaugeMetricFamily("opsconsole_maintenance_mode", "The maintenance mode in force (1).", labels=["mode"])
    for mode in Mode:
        family.add_metric([mode.value], 1.0 if current == mode.value else 0.0)
    yield family
