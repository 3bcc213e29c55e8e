"""Wake the outbox relay the moment a service commits: PostgreSQL LISTEN/NOTIFY.

A PostgreSQL source's `opsconsole_outbox` carries a statement-level trigger that NOTIFYs
the channel `opsconsole_outbox` on insert. PostgreSQL delivers a notification when the
inserting transaction commits, never for one rolled back, so the listener relays committed
rows within milliseconds instead of at the next beat tick. Beat's relay (every
OPSCONSOLE_SOURCE_RELAY_SECONDS) stays the safety net: a notification missed while the
listener was down or reconnecting only delays its row until then, and at every (re)connect
the listener first relays what is already waiting.

One connection per source, in autocommit, does nothing but LISTEN; the relay itself runs
on the source's ordinary Django connection, exactly as beat's task does.
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, close_old_connections, connections

from sources import outbox
from sources.connections import Source, source_list
from sources.exceptions import SourceReadOnly, SourceUnreachable
from sources.services.relay import source_outbox_installed, source_outbox_relay_until_empty

logger = logging.getLogger(__name__)

RECONNECT_START = 1.0
RECONNECT_MAX = 30.0


def listenable_sources() -> list[Source]:
    """The sources a listener can wake for: writable, on PostgreSQL."""
    return [source for source in source_list() if not source.read_only and source.vendor == "postgresql"]


@dataclass
class _Listener:
    source: Source
    connection: Any = None  # a psycopg connection that only LISTENs
    retry_at: float = 0.0
    delay: float = RECONNECT_START

    def open(self) -> None:
        """Connect and LISTEN, then relay what waited (its notifications may have gone unheard)."""
        wrapper = self.source.connection
        connection = wrapper.get_new_connection(wrapper.get_connection_params())
        try:
            connection.autocommit = True
            connection.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")
        except Exception:
            connection.close()
            raise
        self.connection = connection
        self.delay = RECONNECT_START
        logger.info("outbox listener: listening on source %s", self.source.name)
        self.relay()

    def woken(self) -> bool:
        """Drain what the socket holds; True if it held a notification."""
        return any(True for _ in self.connection.notifies(timeout=0))

    def relay(self) -> None:
        if not source_outbox_installed(self.source):
            return
        result = source_outbox_relay_until_empty(source=self.source.name)
        if result.relayed or result.errored:
            logger.debug("outbox listener %s: %s", self.source.name, result)

    def lost(self, exc: BaseException) -> None:
        """Drop the connection; try again after a back-off (1 s, doubling to 30 s)."""
        logger.warning("outbox listener %s: %s; reconnecting in %.0f s", self.source.name, exc, self.delay)
        self.close()
        self.source.connection.close()  # the relay's connection may be as dead as ours
        close_old_connections()
        self.retry_at = time.monotonic() + self.delay
        self.delay = min(self.delay * 2, RECONNECT_MAX)

    def close(self) -> None:
        if self.connection is not None:
            # Closing a broken connection may fail; it is gone either way.
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None


_FAULTS = (DatabaseError, SourceUnreachable, SourceReadOnly, OSError)


def source_outbox_listen(
    *,
    stop: threading.Event,
    sources: list[Source] | None = None,
    poll_seconds: float = 1.0,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Relay each source's outbox whenever its NOTIFY arrives, until `stop` is set.

    `on_listening` is called once every source listens (tests wait for it).
    """
    import psycopg  # PostgreSQL sources only: psycopg is there whenever one is configured

    listeners = [_Listener(source) for source in (listenable_sources() if sources is None else sources)]
    announced = False
    try:
        while not stop.is_set():
            now = time.monotonic()
            for listener in listeners:
                if listener.connection is None and now >= listener.retry_at:
                    try:
                        listener.open()
                    except (*_FAULTS, psycopg.Error) as exc:
                        listener.lost(exc)
            live = [listener for listener in listeners if listener.connection is not None]
            if not announced and on_listening is not None and len(live) == len(listeners):
                on_listening()
                announced = True
            if not live:
                stop.wait(poll_seconds)
                continue
            readable, _, _ = select.select([listener.connection.fileno() for listener in live], [], [], poll_seconds)
            for listener in live:
                if listener.connection.fileno() not in readable:
                    continue
                try:
                    if listener.woken():
                        listener.relay()
                except (*_FAULTS, psycopg.Error) as exc:
                    listener.lost(exc)
    finally:
        for listener in listeners:
            listener.close()
        connections.close_all()  # this thread's own Django connections (the relay's)
