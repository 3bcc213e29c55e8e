"""What the dashboard shows: the panels the apps registered (<app>/dashboard.py), composed.

The dashboard holds no rule of any app: each panel's figures, its queries and its links
are its app's own. Each panel costs a small, fixed number of queries however large the
tables grow (see the apps' dashboard modules).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from opsconsole.dashboard.registry import Panel, registry


def visible_panels(user: Any) -> set[str]:
    """The dashboard panels whose data `user` may view (Django model view permissions)."""
    return {panel.name for panel in registry.panels() if user.has_perm(panel.permission)}


def dashboard_figures(*, user: Any, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of the dashboard that `user` may see, in a fixed number of queries."""
    panels = visible_panels(user)
    figures: dict[str, Any] = {"panels": panels, "links": registry.links()}
    for panel in registry.panels():
        if panel.name in panels:
            figures.update(panel.figures(now=now))
    return figures


def chart_panel() -> Panel | None:
    """The panel whose charts refresh from /admin/dashboard/data, if one is registered."""
    return registry.chart_panel()


def chart_data(*, now: datetime | None = None) -> dict[str, Any]:
    """What the charts draw on refresh, as plain JSON values."""
    panel = chart_panel()
    series = panel.chart_data(now=now) if panel is not None and panel.chart_data is not None else {}
    return {"generated_at": timezone.now().isoformat(), **series}
