"""The dashboard's panels: each app contributes its own in `<app>/dashboard.py`.

Like an app's `admin.py` for the admin site, or `datasets.py` for exports: the module is
imported at start-up (OpsConsoleConfig.ready() autodiscovers it) and registers its
panels here, so the dashboard composes them without importing any app itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Figures = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Panel:
    """One panel of the dashboard.

    `figures(now=...)` returns the template keys it fills (`dashboard.<key>`); it runs only
    for users with the model view `permission`. `chart_data(now=...)`, on at most one
    panel, serves the charts' periodic refresh (/admin/dashboard/data).
    """

    name: str
    permission: str
    figures: Figures
    chart_data: Figures | None = None


class DashboardRegistry:
    def __init__(self) -> None:
        self._panels: dict[str, Panel] = {}
        # Keyed by the function's dotted path: a module imported twice replaces its own entry.
        self._links: dict[str, Callable[[], dict[str, str | None]]] = {}

    def register(self, panel: Panel) -> Panel:
        existing = self._panels.get(panel.name)
        if existing is not None and existing.figures.__module__ != panel.figures.__module__:
            raise ValueError(f"dashboard panel {panel.name!r} is already registered by {existing.figures.__module__}")
        self._panels[panel.name] = panel
        return panel

    def register_links(self, links: Callable[[], dict[str, str | None]]) -> Callable[[], dict[str, str | None]]:
        """Register a function returning named admin links (`dashboard.links.<name>`); a decorator."""
        self._links[f"{links.__module__}.{links.__qualname__}"] = links
        return links

    def panels(self) -> list[Panel]:
        return list(self._panels.values())

    def chart_panel(self) -> Panel | None:
        return next((panel for panel in self._panels.values() if panel.chart_data is not None), None)

    def links(self) -> dict[str, str | None]:
        merged: dict[str, str | None] = {}
        for links in self._links.values():
            merged.update(links())
        return merged


registry = DashboardRegistry()
register = registry.register
register_links = registry.register_links
