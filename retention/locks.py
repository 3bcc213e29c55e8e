"""One purge at a time, across processes and machines: a lock backend per database.

PostgreSQL: a session advisory lock held on a dedicated connection for the whole
purge. A crashed purge's session ends with it, so the lock cannot outlive its holder;
and the dedicated connection keeps the lock independent of the transactions (or the
persistent-connection recycling) of the connection that deletes.
Elsewhere (SQLite): a row in purge_locks, refreshed after every batch and taken over
once stale, so a crash blocks purging for LOCK_STALE_SECONDS at most; or at once when
its holder ran on this machine and that process is gone (SQLite is the one-machine setup).
"""

from __future__ import annotations

import os
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from retention.conf import retention_settings
from retention.exceptions import PurgeLocked
from retention.models import PurgeLock

# pg advisory locks share one bigint key space per database: b"opspurge".
ADVISORY_LOCK_KEY = int.from_bytes(b"opspurge", "big") & 0x7FFF_FFFF_FFFF_FFFF
ROW_LOCK_NAME = "purge"


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_gone(holder: str) -> bool:
    """True when `holder` (host:pid) names a process of this machine that no longer exists.

    A holder on another machine, or a pid that exists (perhaps reused), counts as alive:
    its lock then waits for its expiry, never taken from a live purge.
    """
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by another user
        return False
    return False


class PurgeLockBackend(ABC):
    """Try to take the purge lock; refresh it while working; release it at the end."""

    held_by: str = ""

    def __init__(self, using: str = "default") -> None:
        self.using = using

    @abstractmethod
    def acquire(self) -> bool:
        """Take the lock without waiting; False when another purge holds it."""

    def refresh(self) -> None:
        """Tell others the holder is alive (between batches); PurgeLocked if the lock was lost."""
        return None

    @abstractmethod
    def release(self) -> None:
        """Give the lock back."""


class AdvisoryLock(PurgeLockBackend):
    """pg_try_advisory_lock on a session of its own."""

    def __init__(self, using: str = "default") -> None:
        super().__init__(using)
        self.connection = connections.create_connection(using)

    def acquire(self) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            acquired = bool(cursor.fetchone()[0])
            if not acquired:
                cursor.execute(
                    "SELECT string_agg(pid::text, ',') FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid = %s AND objid = %s",
                    [(ADVISORY_LOCK_KEY >> 32) & 0xFFFF_FFFF, ADVISORY_LOCK_KEY & 0xFFFF_FFFF],
                )
                pids = cursor.fetchone()[0]
                self.held_by = f"database session pid {pids}" if pids else ""
        if not acquired:
            self.connection.close()
        return acquired

    def release(self) -> None:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        finally:
            # Closing the session would release the lock anyway.
            self.connection.close()


class RowLock(PurgeLockBackend):
    """A row in purge_locks with an expiry that the holder pushes forward."""

    def __init__(self, using: str = "default") -> None:
        super().__init__(using)
        self.token = uuid.uuid4().hex

    def _expiry(self):
        return timezone.now() + timedelta(seconds=float(retention_settings.LOCK_STALE_SECONDS))

    def acquire(self) -> bool:
        locks = PurgeLock.objects.using(self.using)
        now = timezone.now()
        try:
            # SQLite runs this as BEGIN IMMEDIATE: two purges checking at once are serialized.
            with transaction.atomic(using=self.using):
                current = locks.select_for_update().filter(pk=ROW_LOCK_NAME).first()
                if current is not None and current.expires_at > now and not holder_is_gone(current.holder):
                    self.held_by = current.holder
                    return False
                locks.update_or_create(
                    pk=ROW_LOCK_NAME,
                    defaults={
                        "token": self.token,
                        "holder": holder_name(),
                        "acquired_at": now,
                        "expires_at": self._expiry(),
                    },
                )
        except IntegrityError:
            return False
        return True

    def refresh(self) -> None:
        updated = (
            PurgeLock.objects.using(self.using)
            .filter(pk=ROW_LOCK_NAME, token=self.token)
            .update(expires_at=self._expiry())
        )
        if not updated:
            raise PurgeLocked(detail="Purge stopped: its lock went stale and another purge took it over.")

    def release(self) -> None:
        PurgeLock.objects.using(self.using).filter(pk=ROW_LOCK_NAME, token=self.token).delete()


def lock_backend(using: str = "default") -> PurgeLockBackend:
    if connections[using].vendor == "postgresql":
        return AdvisoryLock(using)
    return RowLock(using)


@contextmanager
def purge_lock(using: str = "default") -> Iterator[PurgeLockBackend]:
    """Hold the purge lock for the block; PurgeLocked at once if another purge holds it."""
    lock = lock_backend(using)
    if not lock.acquire():
        raise PurgeLocked(lock.held_by)
    try:
        yield lock
    finally:
        lock.release()
