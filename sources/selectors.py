"""Reads of the sources app that carry a rule."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from sources import outbox
from sources.connections import Source
from sources.introspection import describe_table
from sources.models import SourceTable


def source_table_list(*, source: str | None = None) -> QuerySet[SourceTable]:
    """Registered tables, by source and table (all, or one source's)."""
    tables = SourceTable.objects.order_by("source", "table")
    return tables if source is None else tables.filter(source=source)


def source_table_by_name(name: str) -> SourceTable | None:
    """The registered table whose dataset/category name (`<source>.<table>`) is `name`."""
    source, dot, table = name.partition(".")
    if not dot:
        return None
    candidates = SourceTable.objects.filter(source=source, table__in=[table, f"public.{table}"])
    return next((candidate for candidate in candidates if candidate.name == name), None)


def source_outbox_backlog(*, source: Source, status: str | None = None, limit: int = 100) -> dict[str, Any]:
    """A source's outbox: rows waiting (no error) and rows kept with an error, the oldest first."""
    if describe_table(source, outbox.TABLE) is None:
        return {"installed": False, "pending": 0, "errors": 0, "results": []}
    with source.connection.cursor() as cursor:
        cursor.execute(outbox.COUNTS)
        pending, errors = cursor.fetchone()
        cursor.execute(outbox.list_statement(errors={None: None, "pending": False, "error": True}[status]), [limit])
        rows = [
            {"id": row[0], "created_at": row[1], "channel": row[2], "subject": row[3], "error": row[4]}
            for row in cursor.fetchall()
        ]
    return {"installed": True, "pending": int(pending or 0), "errors": int(errors or 0), "results": rows}
