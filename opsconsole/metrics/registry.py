"""The metric families of the deployment: each app registers its own in `<app>/metrics.py`.

Like `dashboard.py` for the dashboard: the module is imported at start-up
(OpsConsoleConfig.ready() autodiscovers it) and registers functions that build its
families from the database or the shared cache at scrape time, so `/metrics` composes
them without importing any app itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import Metric

Source = Callable[[], Iterable[Metric]]


class MetricsRegistry:
    def __init__(self) -> None:
        # Keyed by the function's dotted path: a module imported twice replaces its own entry.
        self._sources: dict[str, Source] = {}

    def register(self, source: Source) -> Source:
        """Register a function yielding metric families (a decorator)."""
        self._sources[f"{source.__module__}.{source.__qualname__}"] = source
        return source

    def sources(self) -> list[Source]:
        return list(self._sources.values())


registry = MetricsRegistry()
register = registry.register
