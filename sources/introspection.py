"""What a source database holds: its tables, their columns, types and primary keys.

Read from the catalogue (pg_catalog on PostgreSQL, sqlite_master and PRAGMA table_info on
SQLite) with every name passed as a query parameter, never formatted into SQL. A name is
used as an identifier only after it was found here, and then quoted by the backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError

from exports.registry import Kind
from sources.connections import Source
from sources.exceptions import SourceUnreachable

# Identifiers a backend's quote_name cannot quote safely: refused even when a table has them.
_UNQUOTABLE = ('"', "\x00")

_PG_KINDS = {
    "int2": Kind.INT,
    "int4": Kind.INT,
    "int8": Kind.INT,
    "text": Kind.STR,
    "varchar": Kind.STR,
    "bpchar": Kind.STR,
    "citext": Kind.STR,
    "name": Kind.STR,
    "bool": Kind.BOOL,
    "timestamp": Kind.DATETIME,
    "timestamptz": Kind.DATETIME,
    "date": Kind.DATE,
    "json": Kind.JSON,
    "jsonb": Kind.JSON,
}

_PG_NUMBERS = {"numeric", "float4", "float8"}
_SQLITE_NUMBERS = ("REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL")

_PG_TABLES = """
SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%%'
"""
_SQLITE_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
_PG_COLUMNS = """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), t.typname, NOT a.attnotnull
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""
_PG_PRIMARY_KEY = """
SELECT a.attname FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = %s AND i.indisprimary
"""


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    db_type: str
    #: how exports type the values; None: another type, exported as its text
    kind: Kind | None
    nullable: bool
    #: a non-integer number (numeric, real, float): exported as a JSON number
    number: bool = False

    @property
    def export_kind(self) -> str:
        """What a registration stores: an exports Kind, "number", or "text" (other types, as their text)."""
        if self.kind:
            return str(self.kind)
        return "number" if self.number else "text"

    @property
    def is_temporal(self) -> bool:
        return self.kind in (Kind.DATETIME, Kind.DATE)


@dataclass(frozen=True)
class TableInfo:
    #: as registered: `schema.table` on PostgreSQL, `table` on SQLite
    name: str
    schema: str | None
    table: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...]

    def column(self, name: str) -> ColumnInfo | None:
        return next((column for column in self.columns if column.name == name), None)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def describe(self) -> dict[str, Any]:
        return {
            "table": self.name,
            "primary_key": list(self.primary_key),
            "columns": [
                {"name": c.name, "type": c.db_type, "kind": c.export_kind, "nullable": c.nullable} for c in self.columns
            ],
        }


def quotable(name: str) -> bool:
    return bool(name) and not any(char in name for char in _UNQUOTABLE)


def split_name(source: Source, name: str) -> tuple[str | None, str]:
    """`public.orders` -> ("public", "orders") on PostgreSQL (no schema: public); SQLite has none."""
    if source.vendor == "postgresql":
        schema, dot, table = name.partition(".")
        return (schema, table) if dot else ("public", name)
    return None, name


def canonical_name(source: Source, name: str) -> str:
    schema, table = split_name(source, name)
    return f"{schema}.{table}" if schema else table


def table_names(source: Source) -> list[str]:
    """Every table of the source that may be registered, as `schema.table` (PostgreSQL) or `table`."""
    with _cursor(source) as cursor:
        if source.vendor == "postgresql":
            cursor.execute(_PG_TABLES + " ORDER BY 1, 2")
            names = [f"{schema}.{table}" for schema, table in cursor.fetchall()]
        else:
            cursor.execute(_SQLITE_TABLES + " ORDER BY name")
            names = [row[0] for row in cursor.fetchall()]
    return [name for name in names if all(quotable(part) for part in name.split("."))]


def describe_table(source: Source, name: str) -> TableInfo | None:
    """The table called `name` in the source, or None when it has no such table."""
    schema, table = split_name(source, name)
    if not quotable(table) or (schema is not None and not quotable(schema)):
        return None
    with _cursor(source) as cursor:
        if source.vendor == "postgresql":
            cursor.execute(_PG_TABLES + " AND n.nspname = %s AND c.relname = %s", [schema, table])
            if cursor.fetchone() is None:
                return None
            cursor.execute(
                "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s",
                [schema, table],
            )
            oid = cursor.fetchone()[0]
            cursor.execute(_PG_COLUMNS, [oid])
            columns = tuple(
                ColumnInfo(
                    name=row[0],
                    db_type=row[1],
                    kind=_PG_KINDS.get(row[2]),
                    nullable=bool(row[3]),
                    number=row[2] in _PG_NUMBERS,
                )
                for row in cursor.fetchall()
            )
            cursor.execute(_PG_PRIMARY_KEY, [oid])
            primary_key = tuple(row[0] for row in cursor.fetchall())
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
            if cursor.fetchone() is None:
                return None
            # PRAGMA takes no parameters: the name was just found in sqlite_master and is quoted.
            cursor.execute(f"PRAGMA table_info({source.connection.ops.quote_name(table)})")
            rows = cursor.fetchall()
            columns = tuple(
                ColumnInfo(
                    name=row[1],
                    db_type=row[2] or "",
                    kind=sqlite_kind(row[2] or ""),
                    nullable=not (row[3] or row[5]),
                    number=any(marker in (row[2] or "").upper() for marker in _SQLITE_NUMBERS),
                )
                for row in rows
            )
            primary_key = tuple(row[1] for row in sorted(rows, key=lambda row: row[5]) if row[5])
    return TableInfo(
        name=f"{schema}.{table}" if schema else table,
        schema=schema,
        table=table,
        columns=tuple(column for column in columns if quotable(column.name)),
        primary_key=primary_key,
    )


def sqlite_kind(declared: str) -> Kind | None:
    """SQLite's declared type, read as Django writes its own columns (bool, datetime, date, text ...)."""
    upper = declared.upper()
    for marker, kind in (
        ("BOOL", Kind.BOOL),
        ("DATETIME", Kind.DATETIME),
        ("TIMESTAMP", Kind.DATETIME),
        ("DATE", Kind.DATE),
        ("JSON", Kind.JSON),
        ("INT", Kind.INT),
        ("CHAR", Kind.STR),
        ("CLOB", Kind.STR),
        ("TEXT", Kind.STR),
    ):
        if marker in upper:
            return kind
    return None


class _cursor:
    """A cursor on the source; a source that does not answer is SourceUnreachable (503), not a 500."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def __enter__(self) -> Any:
        try:
            self._cursor = self.source.connection.cursor()
        except DatabaseError as exc:
            self.source.connection.close()
            raise SourceUnreachable(
                f"Source {self.source.name!r} is unreachable ({type(exc).__name__}); try again later."
            ) from exc
        return self._cursor

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()
