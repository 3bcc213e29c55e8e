"""The sources as Django database aliases, kept in step with `SOURCES["CONNECTIONS"]`.

settings.py adds the aliases of the environment's sources to DATABASES at start-up;
`sync_aliases()` (re)builds them from the current settings at run time, so an
`override_settings(SOURCES=...)` (a test, a shell) adds or removes a source in this process.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from opsconsole.env import SOURCE_ALIAS_PREFIX, source_alias, source_databases
from sources.conf import sources_settings
from sources.exceptions import UnknownSource


@dataclass(frozen=True)
class Source:
    name: str
    alias: str
    read_only: bool

    @property
    def connection(self) -> Any:
        return connections[self.alias]

    @property
    def vendor(self) -> str:
        return str(connections[self.alias].vendor)


# What makes two settings of an alias the same connection (Django fills the rest in).
_IDENTITY = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


def configured() -> dict[str, dict[str, Any]]:
    return dict(sources_settings.CONNECTIONS or {})


def sync_aliases() -> None:
    """Make the source aliases in `connections` match the configured sources (add, change, remove)."""
    wanted = source_databases(configured())
    current = connections.settings
    for alias in [a for a in current if a.startswith(SOURCE_ALIAS_PREFIX) and a not in wanted]:
        _drop(alias)
    for alias, config in wanted.items():
        existing = current.get(alias)
        if existing is not None and all(existing.get(key) == config[key] for key in _IDENTITY):
            continue
        if existing is not None:
            _drop(alias)
        # configure_settings fills Django's defaults (AUTOCOMMIT, TIME_ZONE, TEST, ...) in place.
        connections.configure_settings({DEFAULT_DB_ALIAS: current[DEFAULT_DB_ALIAS], alias: config})
        current[alias] = config


def _drop(alias: str) -> None:
    with contextlib.suppress(AttributeError, KeyError):
        conn = getattr(connections._connections, alias)
        conn.close()
        delattr(connections._connections, alias)
    connections.settings.pop(alias, None)


def on_setting_changed(*, setting: str, **_kwargs: Any) -> None:
    if setting == "SOURCES":
        sync_aliases()


def source_get(name: Any, *, field: str = "source") -> Source:
    """The configured source called `name`, or UnknownSource (a 400) listing the known ones."""
    sources = configured()
    if not isinstance(name, str) or name not in sources:
        raise UnknownSource(name, sorted(sources), field=field)
    if source_alias(name) not in connections.settings:
        sync_aliases()
    return Source(name=name, alias=source_alias(name), read_only=bool(sources[name].get("READ_ONLY")))


def source_list() -> list[Source]:
    return [source_get(name) for name in sorted(configured())]


def source_reachability(source: Source) -> tuple[bool, str]:
    """(reachable, the kind of error): a cheap `SELECT 1`; never a host, user or password in the answer."""
    try:
        with source.connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        with contextlib.suppress(DatabaseError):
            source.connection.close()
        return False, type(exc).__name__
    return True, ""
