"""Every write of the sources app: registering tables (validated by introspection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from exports.registry import is_static_dataset
from maintenance.guards import writes_guarded
from retention.registry import registry as retention_registry
from sources.connections import source_get
from sources.exceptions import InvalidSourceRequest, TableAlreadyRegistered
from sources.introspection import TableInfo, canonical_name, describe_table
from sources.models import SourceTable

PURGE_CONDITION_MAX_VALUES = 100
_UNSET: Any = object()


def _fail(field: str, reason: str) -> InvalidSourceRequest:
    return InvalidSourceRequest(f"Invalid {field}: {reason}", fields={field: [reason]})


def _check_table(source_name: str, table: Any) -> TableInfo:
    source = source_get(source_name)
    if not isinstance(table, str) or not table.strip():
        raise _fail("table", "A table name is required.")
    info = describe_table(source, table)
    if info is None:
        raise _fail(
            "table",
            f"Source {source.name!r} has no table {canonical_name(source, table)!r} "
            f"(GET /system/sources/{source.name}/tables lists them).",
        )
    if len(info.primary_key) != 1:
        found = ", ".join(info.primary_key) or "none"
        raise _fail(
            "table",
            f"{info.name} needs a single-column primary key (found: {found}): purges and exports go in key order.",
        )
    return info


def _check_columns(info: TableInfo, *, timestamp_column: Any, columns: Any, purge_condition: Any) -> list[str]:
    """Check the fields against the table; return the registered columns in the table's order."""
    column = info.column(timestamp_column) if isinstance(timestamp_column, str) else None
    if column is None:
        raise _fail("timestamp_column", f"{info.name} has no column {timestamp_column!r}.")
    if not column.is_temporal:
        raise _fail("timestamp_column", f"{timestamp_column!r} is {column.db_type or 'untyped'}, not a date or time.")
    if columns is None:
        columns = info.column_names
    if not isinstance(columns, list) or not columns or not all(isinstance(name, str) for name in columns):
        raise _fail("columns", "A non-empty list of column names (omit it for every column).")
    unknown = [name for name in columns if info.column(name) is None]
    if unknown:
        raise _fail("columns", f"{info.name} has no column {', '.join(repr(name) for name in unknown)}.")
    if len(set(columns)) != len(columns):
        raise _fail("columns", "Each column may appear once.")
    _check_purge_condition(info, purge_condition)
    return [name for name in info.column_names if name in set(columns)]


def _check_purge_condition(info: TableInfo, condition: Any) -> None:
    if condition is None:
        return
    if not isinstance(condition, dict) or set(condition) != {"column", "in"}:
        raise _fail("purge_condition", 'An object {"column": <name>, "in": [values]}, or null for none.')
    if not isinstance(condition["column"], str) or info.column(condition["column"]) is None:
        raise _fail("purge_condition", f"{info.name} has no column {condition['column']!r}.")
    values = condition["in"]
    if (
        not isinstance(values, list)
        or not 1 <= len(values) <= PURGE_CONDITION_MAX_VALUES
        or not all(isinstance(value, str | int | bool) for value in values)
    ):
        raise _fail(
            "purge_condition", f'"in" must list 1 to {PURGE_CONDITION_MAX_VALUES} strings, numbers or booleans.'
        )


@dataclass(frozen=True)
class CheckedTable:
    """A registration as introspection confirmed it."""

    table: str
    columns: list[str]
    primary_key: str
    column_kinds: dict[str, str]


def source_table_validate(
    *, source: Any, table: Any, timestamp_column: Any, columns: Any = None, purge_condition: Any = None
) -> CheckedTable:
    """Check a registration against the source as it is now; return what to store."""
    info = _check_table(source, table)
    registered = _check_columns(
        info, timestamp_column=timestamp_column, columns=columns, purge_condition=purge_condition
    )
    used = {info.primary_key[0], timestamp_column, *registered}
    if purge_condition:
        used.add(purge_condition["column"])
    kinds = {}
    for column in info.columns:
        if column.name in used:
            kinds[column.name] = column.export_kind
    return CheckedTable(table=info.name, columns=registered, primary_key=info.primary_key[0], column_kinds=kinds)


@writes_guarded
def source_table_register(
    *,
    source: Any,
    table: Any,
    timestamp_column: Any,
    columns: Any = None,
    purge_condition: Any = None,
    description: str = "",
) -> SourceTable:
    """Register a table of a source after introspection confirmed every name in the request."""
    checked = source_table_validate(
        source=source, table=table, timestamp_column=timestamp_column, columns=columns, purge_condition=purge_condition
    )
    name = checked.table
    if SourceTable.objects.filter(source=source, table=name).exists():
        raise TableAlreadyRegistered(
            f"{source}.{name} is already registered.", fields={"table": ["Already registered."]}
        )
    public_name = SourceTable(source=source, table=name).name
    if is_static_dataset(public_name) or retention_registry.is_static(public_name):
        raise _fail("table", f"{public_name!r} is the name of a built-in dataset or retention category.")
    try:
        with transaction.atomic():
            return SourceTable.objects.create(
                source=source,
                table=name,
                timestamp_column=timestamp_column,
                columns=checked.columns,
                primary_key=checked.primary_key,
                column_kinds=checked.column_kinds,
                purge_condition=purge_condition,
                description=description or "",
            )
    except IntegrityError as exc:  # registered concurrently
        raise TableAlreadyRegistered(
            f"{source}.{name} is already registered.", fields={"table": ["Already registered."]}
        ) from exc


@writes_guarded
def source_table_update(
    *,
    source_table: SourceTable,
    timestamp_column: Any = _UNSET,
    columns: Any = _UNSET,
    purge_condition: Any = _UNSET,
    description: Any = _UNSET,
) -> SourceTable:
    """Change what is exported and purged of a registered table, checked again against the table as it is now."""
    timestamp_column = source_table.timestamp_column if timestamp_column is _UNSET else timestamp_column
    columns = source_table.columns if columns is _UNSET else columns
    purge_condition = source_table.purge_condition if purge_condition is _UNSET else purge_condition
    checked = source_table_validate(
        source=source_table.source,
        table=source_table.table,
        timestamp_column=timestamp_column,
        columns=columns,
        purge_condition=purge_condition,
    )
    source_table.timestamp_column = timestamp_column
    source_table.columns = checked.columns
    source_table.primary_key = checked.primary_key
    source_table.column_kinds = checked.column_kinds
    source_table.purge_condition = purge_condition
    if description is not _UNSET:
        source_table.description = description or ""
    source_table.save()
    return source_table


@writes_guarded
def source_table_delete(*, source_table: SourceTable) -> None:
    """Unregister a table: its dataset and retention category disappear; the source table is untouched."""
    source_table.delete()
