"""A registered table as the ORM sees it: a model built at run time, its export dataset and FilterSet.

The model is unmanaged (never migrated), lives in an app registry of its own (Django's
registry never sees it, so building it again after a change warns nothing) and carries its
source alias, which the router sends every query to. Every identifier in it was confirmed
by introspection at registration (sources.services) and is quoted by the backend.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import django_filters
from django.apps.registry import Apps
from django.db import connections, models
from django.db.models import F, Func, TextField
from django.db.models.functions import Cast

from exports.registry import Column, Dataset, Kind
from opsconsole.api.filters import IntegerFilter, IsoDateTimeFromToRangeFilter, StrictBooleanFilter
from opsconsole.env import source_alias
from sources.models import SourceTable

VIEW_PERMISSION = "sources.view_sourcetable"
#: the stored kind of a non-integer number column (sources.introspection.ColumnInfo.export_kind)
NUMBER = "number"

_FIELD_BY_KIND: dict[str, type[models.Field]] = {
    Kind.INT: models.BigIntegerField,
    Kind.STR: models.TextField,
    Kind.BOOL: models.BooleanField,
    Kind.DATETIME: models.DateTimeField,
    Kind.DATE: models.DateField,
    Kind.JSON: models.JSONField,
}

_cache: dict[tuple[int, Any], tuple[type[models.Model], SourceDataset]] = {}
_cache_lock = threading.Lock()


class JsonNumber(Func):
    """A number as its JSON text (`1.25`): exported as a number by every format, never formula-escaped."""

    function = "to_jsonb"
    output_field = models.JSONField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="json_quote", **extra)


class SourceDataset(Dataset):
    """A registered table as an export dataset: read on its source, exported by whoever may view source tables."""

    @property
    def view_permission(self) -> str:
        return VIEW_PERMISSION


def attribute_name(index: int) -> str:
    """Column names need not be Python identifiers ("placed at"): fields are `c0`, `c1`, ... with db_column."""
    return f"c{index}"


def db_table(source_table: SourceTable) -> str:
    """The table as the backend quotes it: `"schema"."table"` on PostgreSQL (Django keeps a quoted name as is)."""
    schema, dot, table = source_table.table.partition(".")
    alias = source_alias(source_table.source)
    if dot and alias in connections.settings and connections[alias].vendor == "postgresql":
        return f'"{schema}"."{table}"'
    return source_table.table


def build_model(source_table: SourceTable) -> type[models.Model]:
    """An unmanaged model of the table with the columns the registration uses."""
    attrs: dict[str, Any] = {"__module__": __name__}
    for index, (column, kind) in enumerate(source_table.column_kinds.items()):
        field_class = _FIELD_BY_KIND.get(kind, models.TextField)
        options: dict[str, Any] = {"db_column": column, "null": True}
        if column == source_table.primary_key:
            options = {"db_column": column, "primary_key": True}
        attrs[attribute_name(index)] = field_class(**options)
    attrs["Meta"] = type(
        "Meta",
        (),
        {"managed": False, "db_table": db_table(source_table), "app_label": "sources_tables", "apps": Apps()},
    )
    attrs["source_alias"] = source_alias(source_table.source)
    class_name = "SourceTable" + re.sub(r"\W", "_", f"_{source_table.pk}")
    return type(class_name, (models.Model,), attrs)


def _attribute(source_table: SourceTable, column: str) -> str:
    return attribute_name(list(source_table.column_kinds).index(column))


def build_filterset(source_table: SourceTable, model: type[models.Model]) -> type[django_filters.FilterSet]:
    """`<timestamp>_after` / `<timestamp>_before`, and an exact match on each registered column."""
    filters: dict[str, Any] = {}
    for column in source_table.columns:
        kind = source_table.column_kinds[column]
        name = _attribute(source_table, column)
        if kind == Kind.INT:
            filters[column] = IntegerFilter(field_name=name)
        elif kind == Kind.BOOL:
            filters[column] = StrictBooleanFilter(field_name=name)
        elif kind in (Kind.STR, "text"):
            filters[column] = django_filters.CharFilter(field_name=name)
    timestamp = source_table.timestamp_column
    filters[timestamp] = IsoDateTimeFromToRangeFilter(
        field_name=_attribute(source_table, timestamp), label=f"{timestamp} range (ISO 8601)"
    )
    filters["Meta"] = type("Meta", (), {"model": model, "fields": []})
    return type(f"{model.__name__}Filter", (django_filters.FilterSet,), filters)


def build_dataset(source_table: SourceTable, model: type[models.Model]) -> SourceDataset:
    columns: list[Column | str] = []
    for column in source_table.columns:
        kind = source_table.column_kinds[column]
        name = _attribute(source_table, column)
        if kind in _FIELD_BY_KIND:
            columns.append(Column(column, name))
        elif kind == NUMBER:  # numeric, real: a JSON number in every file (CSV never escapes it)
            columns.append(Column(column, kind=Kind.JSON, expression=JsonNumber(F(name))))
        else:  # uuid, intervals, ...: the database's own text of the value
            columns.append(Column(column, kind=Kind.STR, expression=Cast(F(name), TextField())))
    alias = source_alias(source_table.source)
    return SourceDataset(
        name=source_table.name,
        description=source_table.description or f"Table {source_table.table} of source {source_table.source}.",
        queryset=lambda: model._default_manager.using(alias).all(),
        columns=columns,
        filterset=build_filterset(source_table, model),
        using=alias,
    )


def table_parts(source_table: SourceTable) -> tuple[type[models.Model], SourceDataset]:
    """The model and dataset of a registered table, built once per version of its row."""
    key = (source_table.pk, source_table.updated_at)
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            for stale in [k for k in _cache if k[0] == source_table.pk]:
                del _cache[stale]
            model = build_model(source_table)
            found = _cache[key] = (model, build_dataset(source_table, model))
    return found


def model_attribute(source_table: SourceTable, column: str) -> str:
    """The model field that reads `column`."""
    return _attribute(source_table, column)
