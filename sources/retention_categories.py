"""Every registered source table is a retention category `<source>.<table>` (the retention registry).

Purged by the same keyset-batched engine as the built-in categories, on the table's primary
key in the source's own database, deleting only rows older than the cutoff that also meet
the table's purge_condition. A read-only source refuses purges.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from retention.registry import RetentionCategory, registry


class SourceTableCategory(RetentionCategory):
    """One registered table as a retention category (an instance per table, not a class)."""

    def __init__(self, source_table, model: type[models.Model], *, read_only: bool) -> None:
        from opsconsole.env import source_alias
        from sources.tables import model_attribute

        self.source_table = source_table
        self.model = model
        self.read_only = read_only
        self.name = source_table.name
        self.date_field = model_attribute(source_table, source_table.timestamp_column)
        self.description = source_table.description or f"Table {source_table.table} of source {source_table.source}."
        self.using = source_alias(source_table.source)
        condition = source_table.purge_condition
        self._conditions = (
            Q(**{f"{model_attribute(source_table, condition['column'])}__in": condition["in"]}) if condition else Q()
        )

    def get_model(self) -> type[models.Model]:
        return self.model

    def conditions(self) -> Q:
        return self._conditions

    def purge_refusal(self) -> str:
        if self.read_only:
            source = self.source_table.source
            return f"source {source!r} is read-only (OPSCONSOLE_SOURCE_{source.upper()}_READONLY=1)."
        return ""

    @property
    def table(self) -> str:
        return f"{self.source_table.source}:{self.source_table.table}"


def source_categories() -> list[RetentionCategory]:
    from sources.connections import configured
    from sources.models import SourceTable
    from sources.tables import table_parts

    sources = configured()
    if not sources:  # no query at all: the registries are asked often, from start-up on
        return []
    return [
        SourceTableCategory(table, table_parts(table)[0], read_only=bool(sources[table.source].get("READ_ONLY")))
        for table in SourceTable.objects.filter(source__in=list(sources))
    ]


registry.register_provider(source_categories)
