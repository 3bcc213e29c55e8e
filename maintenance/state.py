"""The maintenance state as every process sees it: DB row -> shared cache -> per-process memo.

Why three layers:
1. The read-only shield asks on every request, so the hot path must touch neither the
   database nor (usually) the cache: a per-process memo is trusted for at most
   MAINTENANCE["LOCAL_TTL_SECONDS"] (1 s). Every process therefore sees a change within
   that TTL plus the time the writer needs to publish on commit.
2. The shared cache (file cache locally, Redis at scale) holds the committed state, set by
   the service on commit. Readers fill a cold cache with `add`, never `set`, so a reader
   that loaded the old row cannot overwrite the value a writer published meanwhile.
3. The database row is the truth; it is read only on a cache miss.

A thread that changed the mode but has not committed yet reads the row directly (its own
uncommitted change) and publishes nothing, so a rolled-back change never reaches the cache.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.dispatch import receiver

from maintenance.conf import maintenance_settings
from maintenance.models import MaintenanceState, Mode

logger = logging.getLogger(__name__)

CACHE_KEY = "opsconsole:maintenance:state:v1"
NORMAL = Mode.NORMAL.value


@dataclass(frozen=True, slots=True)
class MaintenanceSnapshot:
    """The maintenance state as plain values, cheap to cache and to compare."""

    mode: str = NORMAL
    message: str = ""
    retry_after: int = 300
    until_ts: float | None = None
    updated_by: str = ""
    updated_at_ts: float | None = None

    @property
    def until(self) -> datetime | None:
        return None if self.until_ts is None else datetime.fromtimestamp(self.until_ts, tz=UTC)

    @property
    def updated_at(self) -> datetime | None:
        return None if self.updated_at_ts is None else datetime.fromtimestamp(self.updated_at_ts, tz=UTC)

    def is_expired(self, now_ts: float | None = None) -> bool:
        """True when `until` has passed: readers treat the state as normal from then on."""
        if self.until_ts is None or self.mode == NORMAL:
            return False
        return (time.time() if now_ts is None else now_ts) >= self.until_ts

    def effective(self) -> MaintenanceSnapshot:
        """This state as it applies now: an expired `until` means normal."""
        if self.is_expired():
            return replace(self, mode=NORMAL, message="", until_ts=None)
        return self

    def retry_after_now(self) -> int:
        """The Retry-After to send: the configured one, shortened when the mode ends sooner (`until`)."""
        seconds = self.retry_after
        if self.until_ts is not None:
            seconds = min(seconds, max(1, math.ceil(self.until_ts - time.time())))
        return max(0, seconds)

    @property
    def effective_mode(self) -> str:
        if self.mode == NORMAL or not self.is_expired():
            return self.mode
        return NORMAL

    def as_cache_value(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "message": self.message,
            "retry_after": self.retry_after,
            "until_ts": self.until_ts,
            "updated_by": self.updated_by,
            "updated_at_ts": self.updated_at_ts,
        }

    @classmethod
    def from_cache_value(cls, value: dict[str, Any]) -> MaintenanceSnapshot:
        return cls(
            mode=value["mode"],
            message=value.get("message", ""),
            retry_after=int(value.get("retry_after", 300)),
            until_ts=value.get("until_ts"),
            updated_by=value.get("updated_by", ""),
            updated_at_ts=value.get("updated_at_ts"),
        )

    @classmethod
    def from_state(cls, state: MaintenanceState, *, updated_by: str | None = None) -> MaintenanceSnapshot:
        if updated_by is None:
            updated_by = state.updated_by.get_username() if state.updated_by_id and state.updated_by else ""
        return cls(
            mode=state.mode,
            message=state.message,
            retry_after=state.retry_after,
            until_ts=state.until.timestamp() if state.until else None,
            updated_by=updated_by,
            updated_at_ts=state.updated_at.timestamp() if state.updated_at else None,
        )


FRESH_INSTALL = MaintenanceSnapshot()


# --- per-process memo ---------------------------------------------------------
# (snapshot, monotonic deadline). Replaced as a whole, so readers on other threads see
# either the old or the new tuple, never half of one.
_memo: tuple[MaintenanceSnapshot, float] | None = None
# Threads that changed the state in a transaction not yet committed (see module docstring).
_dirty_threads: set[int] = set()


def local_ttl() -> float:
    return float(maintenance_settings.LOCAL_TTL_SECONDS)


def cache_ttl() -> int:
    return int(maintenance_settings.CACHE_TTL_SECONDS)


def forget_local_state() -> None:
    """Drop this process's memo, so the next read asks the cache (tests, settings changes)."""
    global _memo
    _memo = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **_kwargs: Any) -> None:
    if setting in {"MAINTENANCE", "CACHES"}:
        forget_local_state()


def _remember(snapshot: MaintenanceSnapshot) -> None:
    global _memo
    _memo = (snapshot, time.monotonic() + local_ttl())


def load_from_database(using: str = DEFAULT_DB_ALIAS) -> MaintenanceSnapshot:
    """One query: the state row with its last editor's name."""
    row = (
        MaintenanceState.objects.using(using)
        .filter(pk=MaintenanceState.SINGLETON_ID)
        .values_list("mode", "message", "retry_after", "until", "updated_by__username", "updated_at")
        .first()
    )
    if row is None:
        return FRESH_INSTALL
    mode, message, retry_after, until, updated_by, updated_at = row
    return MaintenanceSnapshot(
        mode=mode,
        message=message,
        retry_after=retry_after,
        until_ts=until.timestamp() if until else None,
        updated_by=updated_by or "",
        updated_at_ts=updated_at.timestamp() if updated_at else None,
    )


def _has_pending_change() -> bool:
    """True while this thread holds an uncommitted change of the state."""
    ident = threading.get_ident()
    if ident not in _dirty_threads:
        return False
    connection = connections[DEFAULT_DB_ALIAS]
    if any(getattr(func, "maintenance_publish", False) for _sids, func, _robust in connection.run_on_commit):
        return True
    # Committed (the callback ran) or rolled back (Django dropped the callback).
    _dirty_threads.discard(ident)
    return False


def mark_pending_change() -> None:
    _dirty_threads.add(threading.get_ident())
    forget_local_state()


def read_shared(*, publish: bool = True, strict: bool = False) -> MaintenanceSnapshot:
    """The state from the shared cache, else from the database (then cached unless publish=False).

    With the database unreachable, non-strict readers (the shield) keep the last state they
    knew, else assume normal: writes fail on their own then, and the site's pages can
    still say why. Strict readers (/health) get the error.
    """
    if _dirty_threads and _has_pending_change():
        return load_from_database()
    cache = caches["default"]
    try:
        value = cache.get(CACHE_KEY)
    except Exception:  # a broken cache must not take the site down: fall back to the row
        logger.warning("maintenance: cache read failed, reading the database", exc_info=True)
        value = None
        publish = False
    if value is not None:
        try:
            snapshot = MaintenanceSnapshot.from_cache_value(value)
        except (KeyError, TypeError, ValueError):
            logger.warning("maintenance: ignoring a malformed cache value %r", value)
        else:
            _remember(snapshot)
            return snapshot
    try:
        snapshot = load_from_database()
    except DatabaseError:
        if strict:
            raise
        logger.warning("maintenance: database unreachable, keeping the last known mode", exc_info=True)
        memo = _memo
        snapshot = memo[0] if memo is not None else FRESH_INSTALL
        _remember(snapshot)
        return snapshot
    if publish:
        try:
            cache.add(CACHE_KEY, snapshot.as_cache_value(), cache_ttl())
        except Exception:
            logger.warning("maintenance: cache write failed", exc_info=True)
    _remember(snapshot)
    return snapshot


def memo_snapshot() -> MaintenanceSnapshot | None:
    """This process's copy if it is fresh (and not shadowed by this thread's pending change)."""
    memo = _memo
    if (
        memo is not None
        and memo[1] > time.monotonic()
        and (not _dirty_threads or threading.get_ident() not in _dirty_threads)
    ):
        return memo[0]
    return None


def local_snapshot() -> MaintenanceSnapshot:
    """The state, at most LOCAL_TTL_SECONDS old: the hot path of the shield."""
    return memo_snapshot() or read_shared()


def publish(snapshot: MaintenanceSnapshot) -> None:
    """Store a committed state in the shared cache and in this process's memo."""
    try:
        caches["default"].set(CACHE_KEY, snapshot.as_cache_value(), cache_ttl())
    except Exception:
        logger.error("maintenance: could not publish the new state to the cache", exc_info=True)
    _remember(snapshot)


def publish_on_commit(snapshot: MaintenanceSnapshot, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Publish `snapshot` when the surrounding transaction commits."""
    from django.db import transaction

    ident = threading.get_ident()

    def _publish() -> None:
        publish(snapshot)
        _dirty_threads.discard(ident)

    _publish.maintenance_publish = True  # type: ignore[attr-defined]
    mark_pending_change()
    transaction.on_commit(_publish, using=using)


def prime_fresh_install() -> None:
    """Start as a fresh install does: no memo, and the shared cache saying normal.

    For test isolation: each test's database starts without a state row (normal), so its
    first request need not pay the cold-cache query.
    """
    forget_local_state()
    caches["default"].set(CACHE_KEY, FRESH_INSTALL.as_cache_value(), cache_ttl())


def state_saved(sender: type, instance: MaintenanceState, using: str = DEFAULT_DB_ALIAS, **_kwargs: Any) -> None:
    """post_save: a write that bypassed the service (shell, fixtures, tests) is published too."""
    if getattr(instance, "publish_handled_by_service", False):
        return
    publish_on_commit(MaintenanceSnapshot.from_state(instance), using=using)


def state_deleted(sender: type, instance: MaintenanceState, using: str = DEFAULT_DB_ALIAS, **_kwargs: Any) -> None:
    """post_delete: no row means normal."""
    publish_on_commit(FRESH_INSTALL, using=using)
