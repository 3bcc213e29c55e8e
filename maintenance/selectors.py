"""Reads of the maintenance state."""

from __future__ import annotations

from maintenance.models import MaintenanceState, Mode


def current_mode() -> str:
    """The mode in force: 'normal', 'read_only' or 'maintenance'."""
    mode = MaintenanceState.objects.filter(pk=MaintenanceState.SINGLETON_ID).values_list("mode", flat=True).first()
    return mode or Mode.NORMAL


def is_normal() -> bool:
    """True when writes and background work may proceed."""
    return current_mode() == Mode.NORMAL
