"""Reads of the sources app that carry a rule."""

from __future__ import annotations

from django.db.models import QuerySet

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
