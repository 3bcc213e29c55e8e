"""The maintenance panel of the dashboard: the mode in force and the way to change it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from maintenance.models import MaintenanceState, Mode
from maintenance.selectors import maintenance_snapshot
from opsconsole.dashboard import registry
from opsconsole.dashboard.links import admin_changelist_url


def maintenance_summary() -> dict[str, Any]:
    """The mode in force, who set it, until when, and the link to the maintenance screen.

    Read through the maintenance app's snapshot (per-process memo, then the shared cache),
    the same state the shield and the banner use on this request, so it costs no query
    of its own and shows an expired `until` as normal, as the shield does.
    """
    state = maintenance_snapshot()
    return {
        "mode": state.mode,
        "mode_label": Mode(state.mode).label,
        "is_normal": state.mode == Mode.NORMAL,
        "message": state.message,
        "until": state.until,
        "updated_at": state.updated_at,
        "updated_by": state.updated_by,
        "screen_url": admin_changelist_url(MaintenanceState) or "/admin/maintenance/maintenancestate/",
    }


def maintenance_figures(*, now: datetime | None = None) -> dict[str, Any]:
    return {"maintenance": maintenance_summary()}


registry.register(
    registry.Panel(name="maintenance", permission="maintenance.view_maintenancestate", figures=maintenance_figures)
)
