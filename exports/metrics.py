"""The exports families of /metrics: jobs by status, rows written by completed exports."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exports.models import ExportJob, JobStatus
from opsconsole.metrics.counters import counter_totals, counters_add, labels_key
from opsconsole.metrics.registry import register

ROWS = "opsconsole_export_rows_total"


def export_rows_count(rows: int) -> None:
    """Count the rows of an export that completed; call it in the transaction that completes it."""
    counters_add({(ROWS, labels_key()): rows})


@register
def export_families() -> Iterator[Metric]:
    counts = dict(ExportJob.objects.values_list("status").annotate(jobs=Count("*")).order_by())
    jobs = GaugeMetricFamily("opsconsole_export_jobs", "Export jobs by status.", labels=["status"])
    for status in JobStatus:
        jobs.add_metric([status.value], counts.get(status.value, 0))
    yield jobs
    rows = counter_totals([ROWS]).get((ROWS, labels_key()), 0.0)
    yield CounterMetricFamily(ROWS, "Rows written by completed exports.", value=rows)
