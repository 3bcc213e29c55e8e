"""Reads of the maintenance state and its history."""

from __future__ import annotations

from django.db.models import QuerySet

from maintenance import state as state_cache
from maintenance.models import MaintenanceEvent, Mode
from maintenance.state import MaintenanceSnapshot


def current_mode() -> str:
    """The mode in force: 'normal', 'read_only' or 'maintenance' (an expired `until` is normal).

    Served from a per-process memo (<= 1 s old) or the shared cache: no database query
    except on a cold cache.
    """
    return state_cache.local_snapshot().effective_mode


def is_normal() -> bool:
    """True when writes and background work may proceed."""
    return state_cache.local_snapshot().effective_mode == Mode.NORMAL


def maintenance_snapshot(*, publish: bool = True) -> MaintenanceSnapshot:
    """The state in force (message, retry_after, until ...), from the memo or the cache.

    publish=False never writes to the cache, even on a miss, and raises when the database
    is unreachable (for /health).
    """
    if publish:
        return state_cache.local_snapshot().effective()
    return state_cache.read_shared(publish=False, strict=True).effective()


def maintenance_state_get() -> MaintenanceSnapshot:
    """The state in force read from the database itself (the API and admin show the truth)."""
    return state_cache.load_from_database().effective()


def maintenance_event_list() -> QuerySet[MaintenanceEvent]:
    """Every change of mode, newest first."""
    return MaintenanceEvent.objects.order_by("-id")
