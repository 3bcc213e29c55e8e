"""Every change of the maintenance state goes through here."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from maintenance.models import MaintenanceEvent, MaintenanceState, Mode


@transaction.atomic
def maintenance_set_mode(
    *,
    mode: str,
    reason: str,
    actor=None,
    message: str = "",
    until: datetime | None = None,
    retry_after: int | None = None,
    source: str = "",
) -> MaintenanceState:
    """Change the mode and record who, when and why."""
    state, _ = MaintenanceState.objects.select_for_update().get_or_create(pk=MaintenanceState.SINGLETON_ID)
    previous = state.mode
    state.mode = Mode(mode)
    state.message = message
    state.until = until
    if retry_after is not None:
        state.retry_after = retry_after
    state.updated_by = actor
    state.save()
    MaintenanceEvent.objects.create(
        from_mode=previous,
        to_mode=state.mode,
        reason=reason,
        message=message,
        until=until,
        actor=actor,
        actor_name=getattr(actor, "username", "") or "",
        source=source,
    )
    return state
