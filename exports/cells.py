"""How one value becomes text in an export file, byte-identical to what PostgreSQL prints.

The Python path of the writers (exports/formats.py) must produce exactly the bytes that
PostgreSQL's COPY and row_to_json produce on the fast path, so a file does not depend on
which path wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from exports.registry import Kind

# --- CSV text, byte-identical to PostgreSQL's `COPY ... WITH (FORMAT csv)` ---------------
# COPY quotes a value when it holds the delimiter, the quote, CR or LF, or is the empty
# string (an unquoted empty field means NULL); `\.` alone in a one-column row is quoted too.
CSV_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


# A spreadsheet opening a CSV runs a cell that starts with one of these as a formula
# (`=HYPERLINK(...)`, `@SUM(...)`, `-2+3+cmd|...`); tab and CR lead some importers to trim
# and then read what follows. OWASP's advice against CSV injection: prefix the cell with `'`.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def sql_escape_formula(column_sql: str) -> str:
    """One text column with a leading `'` when it starts with a FORMULA_TRIGGERS (NULL stays NULL)."""
    # The first character's code (= + - @ tab CR) against six integers: no regex and no substring
    # per row. Measured on 1M narrow rows, left(x, 1) IN ('=', ...) made COPY ~60 % slower, ascii() ~0 %.
    codes = ", ".join(str(ord(char)) for char in FORMULA_TRIGGERS)
    return f"CASE WHEN ascii({column_sql}) IN ({codes}) THEN '''' || {column_sql} ELSE {column_sql} END"


def csv_field(text: str, *, single_column: bool = False) -> str:
    if text == "" or CSV_NEEDS_QUOTES.search(text) or (single_column and text == "\\."):
        return '"' + text.replace('"', '""') + '"'
    return text


def _utc_iso(value: datetime, sep: str) -> str:
    """ISO 8601 in UTC without offset, fractional seconds trimmed as PostgreSQL trims them."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat() is several times faster than strftime(); the offset is cut off.
    text = value.replace(tzinfo=None).isoformat(sep)
    return text.rstrip("0") if value.microsecond else text


def pg_timestamptz_text(value: datetime) -> str:
    """`timestamptz` as PostgreSQL prints it with DateStyle ISO and TimeZone UTC."""
    return _utc_iso(value, " ") + "+00"


def pg_json_timestamptz(value: datetime) -> str:
    """`timestamptz` as PostgreSQL's row_to_json prints it with TimeZone UTC (a quoted JSON string)."""
    return '"' + _utc_iso(value, "T") + '+00:00"'


def bool_text(value: bool) -> str:
    return "true" if value else "false"


def _date_text(value: date) -> str:
    return value.isoformat()


CSV_TEXT: dict[Kind, Callable[[Any], str]] = {
    Kind.INT: str,
    Kind.STR: str,
    Kind.BOOL: bool_text,
    Kind.DATETIME: pg_timestamptz_text,
    Kind.DATE: _date_text,
    Kind.JSON: str,
}
