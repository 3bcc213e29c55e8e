"""Format writers: one class per file format, one registry line each.

Writers receive rows as tuples in the dataset's column order, a chunk at a time, and
write to a binary stream; none keeps more than one chunk (Parquet: one row group) in
memory. JSON columns arrive as the database's JSON text and are embedded as they are.
"""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any, BinaryIO, ClassVar

from exports.cells import (
    CSV_NEEDS_QUOTES,
    CSV_TEXT,
    FORMULA_TRIGGERS,
    bool_text,
    csv_field,
    pg_json_timestamptz,
    sql_escape_formula,
)
from exports.conf import exports_settings
from exports.exceptions import ExportFailed
from exports.registry import Column, Kind

Row = Sequence[Any]


class FormatWriter(ABC):
    """Write rows of one dataset to a binary stream in one file format."""

    name: ClassVar[str]
    extension: ClassVar[str]
    content_type: ClassVar[str]
    # The most data rows a file of this format can hold (None: no limit).
    max_rows: ClassVar[int | None] = None
    # Options of a PostgreSQL `COPY ... TO STDOUT WITH (...)` producing exactly this format's rows
    # (None: the database cannot write this format, rows go through Python).
    copy_options: ClassVar[str | None] = None
    # Column kinds cast to text in the SQL that COPY runs (CSV: booleans print 'true'/'false').
    copy_as_text: ClassVar[frozenset[Kind]] = frozenset()

    def __init__(self, out: BinaryIO, columns: Sequence[Column]) -> None:
        self.out = out
        self.columns = list(columns)

    @classmethod
    def copy_select(cls, sql: str, columns: Sequence[Column]) -> str:
        """The SELECT that COPY runs around the dataset's query `sql` (columns in order)."""
        return sql

    def begin(self) -> None:  # noqa: B027 - optional hook
        """Write what comes before the rows (a header)."""

    @abstractmethod
    def write_rows(self, rows: Sequence[Row]) -> None:
        """Write one chunk of rows."""

    def finish(self) -> None:  # noqa: B027 - optional hook
        """Write what comes after the rows and flush."""

    def abort(self) -> None:  # noqa: B027 - optional hook
        """Release what the writer holds (its own temp files) when the export stops half way."""


def _escapes_formulas() -> bool:
    return bool(exports_settings.CSV_ESCAPE_FORMULAS)


def _quoted_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class CsvWriter(FormatWriter):
    """RFC 4180 CSV with a header row, NULL as an empty field, as PostgreSQL's COPY writes it.

    With EXPORTS["CSV_ESCAPE_FORMULAS"] (the default) a text cell that a spreadsheet would run
    as a formula gets a leading `'`, on the Python path and in COPY's SQL alike. Only text
    columns (Kind.STR): a negative number in an integer column is data, and JSON text starts
    with `{`, `[`, `"`, a digit, a number's `-` or a literal, none of which a spreadsheet runs.
    """

    name = "csv"
    extension = "csv"
    content_type = "text/csv; charset=utf-8"
    copy_options = "FORMAT csv"
    copy_as_text = frozenset({Kind.BOOL, Kind.JSON})

    def __init__(self, out: BinaryIO, columns: Sequence[Column]) -> None:
        super().__init__(out, columns)
        self._single = len(self.columns) == 1
        self._escape = _escapes_formulas()
        self._formatters = [self._formatter(column.kind) for column in self.columns]  # type: ignore[arg-type]

    @classmethod
    def copy_select(cls, sql: str, columns: Sequence[Column]) -> str:
        if not _escapes_formulas() or not any(column.kind == Kind.STR for column in columns):
            return sql
        names = [_quoted_name(column.name) for column in columns]
        outputs = [
            sql_escape_formula(f"export_row.{name}") if column.kind == Kind.STR else f"export_row.{name}"
            for column, name in zip(columns, names, strict=True)
        ]
        return f"SELECT {', '.join(outputs)} FROM ({sql}) AS export_row({', '.join(names)})"

    def _formatter(self, kind: Kind) -> Callable[[Any], str]:
        text = CSV_TEXT[kind]
        if kind in (Kind.STR, Kind.JSON):
            single = self._single
            needs_quotes = CSV_NEEDS_QUOTES.search
            triggers = FORMULA_TRIGGERS if self._escape and kind == Kind.STR else None

            def quoted(value: Any) -> str:
                if value is None:
                    return ""
                if triggers is not None and value.startswith(triggers):
                    value = "'" + value
                if value == "" or needs_quotes(value) or (single and value == "\\."):
                    return '"' + value.replace('"', '""') + '"'
                return value

            return quoted
        # Numbers, booleans and timestamps never hold a comma, quote or newline.
        return lambda value: "" if value is None else text(value)

    def begin(self) -> None:
        header = ",".join(csv_field(c.name, single_column=self._single) for c in self.columns)
        self.out.write((header + "\n").encode())

    def write_rows(self, rows: Sequence[Row]) -> None:
        formatters = self._formatters
        lines = [",".join([fmt(value) for fmt, value in zip(formatters, row, strict=True)]) for row in rows]
        if lines:
            self.out.write(("\n".join(lines) + "\n").encode())


def _json_scalar(kind: Kind) -> Callable[[Any], str]:
    if kind == Kind.JSON:

        def embed(raw: Any) -> str:
            # The database's JSON text is valid JSON; re-encode only if it spans lines (JSON Lines).
            return json.dumps(json.loads(raw), ensure_ascii=False) if "\n" in raw or "\r" in raw else raw

        return embed
    if kind == Kind.DATETIME:
        return pg_json_timestamptz
    if kind == Kind.DATE:
        return lambda value: '"' + value.isoformat() + '"'
    if kind == Kind.BOOL:
        return bool_text
    if kind == Kind.INT:
        return str
    return lambda value: json.dumps(value, ensure_ascii=False)


class _JsonObjects(FormatWriter):
    """Objects exactly as PostgreSQL's row_to_json writes them: compact, keys in column order."""

    def __init__(self, out: BinaryIO, columns: Sequence[Column]) -> None:
        super().__init__(out, columns)
        self._encoders = [(json.dumps(c.name) + ":", _json_scalar(c.kind)) for c in self.columns]  # type: ignore[arg-type]

    def objects(self, rows: Sequence[Row]) -> list[str]:
        encoders = self._encoders
        return [
            "{"
            + ",".join(
                key + ("null" if value is None else encode(value))
                for (key, encode), value in zip(encoders, row, strict=True)
            )
            + "}"
            for row in rows
        ]


class JsonLinesWriter(_JsonObjects):
    """One JSON object per line (JSON Lines)."""

    name = "jsonl"
    extension = "jsonl"
    content_type = "application/jsonl; charset=utf-8"
    # JSON text holds no raw newline or control character, so CSV mode with quote and delimiter
    # characters that cannot occur passes each line through untouched (text mode would double
    # every backslash).
    copy_options = "FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02'"

    @classmethod
    def copy_select(cls, sql: str, columns: Sequence[Column]) -> str:
        names = ", ".join(_quoted_name(column.name) for column in columns)
        return f"SELECT row_to_json(export_row)::text FROM ({sql}) AS export_row({names})"

    def write_rows(self, rows: Sequence[Row]) -> None:
        if rows:
            self.out.write(("\n".join(self.objects(rows)) + "\n").encode())


class JsonWriter(_JsonObjects):
    """One JSON array of objects, one object per line."""

    name = "json"
    extension = "json"
    content_type = "application/json"

    def begin(self) -> None:
        self._first = True
        self.out.write(b"[")

    def write_rows(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        text = ",\n".join(self.objects(rows))
        self.out.write((("\n" if self._first else ",\n") + text).encode())
        self._first = False

    def finish(self) -> None:
        self.out.write(b"]\n" if self._first else b"\n]\n")


class XlsxWriter(FormatWriter):
    """An Excel workbook written with openpyxl's write-only mode (rows go to disk as they come)."""

    name = "xlsx"
    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    max_rows = 1_048_576 - 1  # Excel's sheet limit, less the header row
    MAX_CELL_CHARS = 32_767

    def begin(self) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self._illegal = ILLEGAL_CHARACTERS_RE
        self._text_cell = WriteOnlyCell
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title="export")
        self._sheet.append([c.name for c in self.columns])
        self._kinds = [c.kind for c in self.columns]

    def _cell(self, kind: Kind | None, value: Any) -> Any:
        if value is None:
            return None
        if kind == Kind.DATETIME:
            # Excel has no time zones: cells hold UTC wall time.
            return value.astimezone(UTC).replace(tzinfo=None)
        if isinstance(value, str):
            if len(value) > self.MAX_CELL_CHARS:
                raise ExportFailed(
                    f"A value of {len(value):,} characters does not fit an Excel cell "
                    f"(at most {self.MAX_CELL_CHARS:,}); choose csv, jsonl or parquet."
                )
            # Control characters other than tab/CR/LF are not allowed in the file format.
            value = self._illegal.sub("", value)
            if value.startswith("="):
                # openpyxl would store it as a formula: exported data must never run in Excel.
                cell = self._text_cell(self._sheet, value=value)
                cell.data_type = "s"
                return cell
        return value

    def write_rows(self, rows: Sequence[Row]) -> None:
        kinds = self._kinds
        for row in rows:
            self._sheet.append([self._cell(kind, value) for kind, value in zip(kinds, row, strict=True)])

    def finish(self) -> None:
        self._book.save(self.out)

    def abort(self) -> None:
        # openpyxl's write-only sheet streams rows into a temp file of its own, removed only
        # by a successful save (or at interpreter exit): remove it now.
        sheet = getattr(self, "_sheet", None)
        writer = getattr(sheet, "_writer", None)
        if writer is None:
            return
        with contextlib.suppress(ValueError, OSError, StopIteration):
            if sheet._rows is not None:
                sheet._rows.close()
        with contextlib.suppress(ValueError, OSError):
            writer.close()
        with contextlib.suppress(OSError, ValueError):
            writer.cleanup()


class ParquetWriter(FormatWriter):
    """Apache Parquet written with pyarrow, one row group per PARQUET_ROW_GROUP rows."""

    name = "parquet"
    extension = "parquet"
    content_type = "application/vnd.apache.parquet"

    def begin(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {
            Kind.INT: pa.int64(),
            Kind.STR: pa.string(),
            Kind.BOOL: pa.bool_(),
            Kind.DATETIME: pa.timestamp("us", tz="UTC"),
            Kind.DATE: pa.date32(),
            Kind.JSON: pa.string(),
        }
        self._pa = pa
        self._schema = pa.schema(
            [
                pa.field(c.name, types[c.kind], metadata={"format": "json"} if c.kind == Kind.JSON else None)  # type: ignore[index]
                for c in self.columns
            ]
        )
        self._row_group = int(exports_settings.PARQUET_ROW_GROUP)
        # Chunks become Arrow batches at once (compact columns, not Python tuples) until a row group is full.
        self._batches: list[Any] = []
        self._buffered = 0
        self._writer = pq.ParquetWriter(self.out, self._schema, compression="zstd")

    def _flush(self, *, final: bool = False) -> None:
        """Write full row groups; the rows past the last full one wait for the next chunks
        (chunks rarely end on a group boundary: written as they came, every group would be
        followed by a small one)."""
        if not self._batches:
            return
        table = self._pa.Table.from_batches(self._batches, schema=self._schema)
        full = table.num_rows if final else table.num_rows - table.num_rows % self._row_group
        if full:
            self._writer.write_table(table.slice(0, full), row_group_size=self._row_group)
        rest = table.slice(full)
        self._batches = rest.to_batches() if rest.num_rows else []
        self._buffered = rest.num_rows

    def write_rows(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        columns = zip(*rows, strict=True)
        arrays = [self._pa.array(values, type=field.type) for values, field in zip(columns, self._schema, strict=True)]
        self._batches.append(self._pa.RecordBatch.from_arrays(arrays, schema=self._schema))
        self._buffered += len(rows)
        if self._buffered >= self._row_group:
            self._flush()

    def finish(self) -> None:
        self._flush(final=True)
        self._writer.close()


FORMATS: dict[str, type[FormatWriter]] = {
    writer.name: writer for writer in (CsvWriter, JsonLinesWriter, JsonWriter, XlsxWriter, ParquetWriter)
}


def get_writer(name: str) -> type[FormatWriter]:
    try:
        return FORMATS[name]
    except KeyError:
        raise ExportFailed(f"Unknown format {name!r}. Known: {', '.join(FORMATS)}.") from None
