"""The prometheus_client Collector behind /metrics: every registered family, built at scrape time.

No process-global metric objects: a Counter in one gunicorn worker's memory would show that
worker's share only. The figures come from the database and the shared cache on each scrape.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from opsconsole.metrics.registry import registry


class DeploymentCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        for source in registry.sources():
            yield from source()


def metrics_render() -> bytes:
    """The Prometheus text exposition of every registered family (raises what the database raises)."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(DeploymentCollector())
    return generate_latest(scrape)
