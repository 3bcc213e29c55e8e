"""Scrape /metrics in tests and read samples the way Prometheus would (prometheus_client's parser)."""

from __future__ import annotations

from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families


def scrape(client: Any, **headers: str) -> dict[str, Metric]:
    """GET /metrics with a test client; the parsed families by name (counters without `_total`)."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content[:500]
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def sample(families: dict[str, Metric], name: str, **labels: str) -> float:
    """The value of the sample `name` whose labels include `labels`; there must be exactly one."""
    matches = [
        s.value
        for family in families.values()
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(matches) == 1, f"{len(matches)} samples {name}{labels}"
    return matches[0]
