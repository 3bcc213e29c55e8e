"""Keep OpsConsole's own models off the source databases, and never migrate a source.

Source tables are read and purged through models built at run time (sources/tables.py),
which carry their alias; every other model lives in `default`.
"""

from __future__ import annotations

from typing import Any

from opsconsole.env import SOURCE_ALIAS_PREFIX


def _source_alias_of(model: Any) -> str | None:
    return getattr(model, "source_alias", None)


class SourceRouter:
    def db_for_read(self, model: Any, **_hints: Any) -> str | None:
        return _source_alias_of(model)

    def db_for_write(self, model: Any, **_hints: Any) -> str | None:
        return _source_alias_of(model)

    def allow_relation(self, obj1: Any, obj2: Any, **_hints: Any) -> bool | None:
        if _source_alias_of(type(obj1)) or _source_alias_of(type(obj2)):
            return False
        return None

    def allow_migrate(self, db: str, app_label: str, **_hints: Any) -> bool | None:
        if db.startswith(SOURCE_ALIAS_PREFIX):
            return False
        return None
