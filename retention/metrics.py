"""The retention family of /metrics: rows the purge deleted, per category."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric

from opsconsole.metrics.counters import counter_totals, counters_add, labels_key
from opsconsole.metrics.registry import register
from retention.registry import registry as categories

DELETED = "opsconsole_purge_rows_deleted_total"


def purge_rows_count(*, category: str, deleted: int) -> None:
    """Count a purge batch's deleted rows; call it in the transaction that deletes them."""
    counters_add({(DELETED, labels_key({"category": category})): deleted})


@register
def purge_families() -> Iterator[Metric]:
    totals = {dict(labels)["category"]: value for (_, labels), value in counter_totals([DELETED]).items()}
    family = CounterMetricFamily(DELETED, "Rows deleted by retention purges, per category.", labels=["category"])
    for category in sorted({*categories.names(), *totals}):
        family.add_metric([category], totals.get(category, 0.0))
    yield family
