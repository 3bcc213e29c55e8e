"""Every change of the maintenance state goes through here.

Both services write whatever the mode (they are the allow-list's mode change, see
maintenance/guards.py): they are how read-only ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from maintenance import state as state_cache
from maintenance.exceptions import InvalidMaintenanceChange, ModeUnchanged
from maintenance.guards import writes_allowed
from maintenance.models import MaintenanceEvent, MaintenanceState, Mode

MODES = [m.value for m in Mode]
MAX_RETRY_AFTER = 7 * 24 * 3600
MAX_REASON_LENGTH = 2000
# The message goes into every 503 answer, the maintenance page and the cached state.
MAX_MESSAGE_LENGTH = 2000


def _validated_mode(mode: Any) -> str:
    if mode not in MODES:
        raise InvalidMaintenanceChange(
            f"Unknown mode {mode!r}. Choose one of: {', '.join(MODES)}.",
            fields={"mode": [f"Unknown mode {mode!r}. Choose one of: {', '.join(MODES)}."]},
        )
    return str(mode)


def _validated_reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise InvalidMaintenanceChange("A reason is required.", fields={"reason": ["A reason is required."]})
    if len(text) > MAX_REASON_LENGTH:
        message = f"At most {MAX_REASON_LENGTH} characters."
        raise InvalidMaintenanceChange(message, fields={"reason": [message]})
    return text


def _validated_until(until: datetime | None, *, mode: str, now: datetime) -> datetime | None:
    if until is None:
        return None
    if timezone.is_naive(until):
        until = timezone.make_aware(until)
    if mode == Mode.NORMAL:
        message = "`until` only applies to read_only and maintenance: normal has no end."
        raise InvalidMaintenanceChange(message, fields={"until": [message]})
    if until <= now:
        message = f"`until` must be in the future (now is {now.isoformat()})."
        raise InvalidMaintenanceChange(message, fields={"until": [message]})
    return until


def _validated_retry_after(retry_after: Any) -> int | None:
    if retry_after is None:
        return None
    if isinstance(retry_after, bool) or not isinstance(retry_after, int) or not 0 <= retry_after <= MAX_RETRY_AFTER:
        message = f"A whole number of seconds from 0 to {MAX_RETRY_AFTER}."
        raise InvalidMaintenanceChange(message, fields={"retry_after": [message]})
    return retry_after


def _locked_state() -> MaintenanceState:
    state, _created = MaintenanceState.objects.select_for_update().get_or_create(pk=MaintenanceState.SINGLETON_ID)
    state.publish_handled_by_service = True  # type: ignore[attr-defined]  # _publish() does it, once
    return state


def _apply(
    state: MaintenanceState,
    *,
    mode: str,
    reason: str,
    actor: Any,
    message: str,
    until: datetime | None,
    retry_after: int,
    source: str,
) -> MaintenanceEvent:
    previous = state.mode
    state.mode = mode
    state.message = message
    state.until = until
    state.retry_after = retry_after
    state.updated_by = actor
    state.save()
    return MaintenanceEvent.objects.create(
        from_mode=previous,
        to_mode=mode,
        reason=reason,
        message=message,
        until=until,
        retry_after=retry_after,
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        source=source,
    )


def _expire_if_due(state: MaintenanceState, *, now: datetime) -> bool:
    if state.mode == Mode.NORMAL or state.until is None or state.until > now:
        return False
    _apply(
        state,
        mode=Mode.NORMAL,
        reason=f"Scheduled end of {state.mode} at {state.until.isoformat()} passed.",
        actor=None,
        message="",
        until=None,
        retry_after=state.retry_after,
        source="schedule",
    )
    return True


def _publish(state: MaintenanceState, actor: Any) -> None:
    state_cache.publish_on_commit(
        state_cache.MaintenanceSnapshot.from_state(state, updated_by=actor.get_username() if actor else "")
    )


@transaction.atomic
@writes_allowed("changing the mode is how read-only ends")
def maintenance_set_mode(
    *,
    mode: str,
    reason: str,
    actor: Any = None,
    message: str = "",
    until: datetime | None = None,
    retry_after: int | None = None,
    source: str = "",
) -> MaintenanceState:
    """Change the mode (or its message, until, retry_after) and record who, when and why.

    Every transition between distinct modes is allowed. A request that changes nothing is
    a ModeUnchanged (409); bad input is InvalidMaintenanceChange (400) and writes nothing.
    retry_after=None keeps the current value. Other processes see the change within
    MAINTENANCE["LOCAL_TTL_SECONDS"] of the commit.
    """
    mode = _validated_mode(mode)
    reason = _validated_reason(reason)
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE_LENGTH:
        error = f"At most {MAX_MESSAGE_LENGTH} characters: it is shown in every refused request."
        raise InvalidMaintenanceChange(error, fields={"message": [error]})
    now = timezone.now()
    until = _validated_until(until, mode=mode, now=now)
    retry_after = _validated_retry_after(retry_after)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None

    state = _locked_state()
    _expire_if_due(state, now=now)
    new_retry_after = state.retry_after if retry_after is None else retry_after
    if (state.mode, state.message, state.until, state.retry_after) == (mode, message, until, new_retry_after):
        detail = f"Nothing to change: already in mode {mode}."
        raise ModeUnchanged(detail, fields={"mode": [detail]})
    _apply(
        state,
        mode=mode,
        reason=reason,
        actor=actor,
        message=message,
        until=until,
        retry_after=new_retry_after,
        source=source,
    )
    _publish(state, actor)
    return state


@transaction.atomic
@writes_allowed("the scheduled end of read-only")
def maintenance_expire(*, now: datetime | None = None) -> MaintenanceState | None:
    """Return to normal when `until` has passed; None when there was nothing to do.

    Safe to run any number of times: the beat task calls it every few seconds.
    """
    now = now or timezone.now()
    # Cheap check first, so the periodic task takes no lock in the common case.
    if not MaintenanceState.objects.filter(
        pk=MaintenanceState.SINGLETON_ID, until__lte=now, mode__in=[Mode.READ_ONLY, Mode.MAINTENANCE]
    ).exists():
        return None
    state = _locked_state()
    if not _expire_if_due(state, now=now):
        return None
    _publish(state, None)
    return state
