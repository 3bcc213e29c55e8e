"""The writing machinery behind `export_job_run`: snapshot reads, COPY, writers, progress.

Rows are read on a connection of their own holding one read-only transaction, so every
dataset of a snapshot (and the row count of a single export) sees the same data, while
progress and cancellation go through the default connection in autocommit, visible to
the API at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.constants import MULTI
from django.utils import timezone

from exports.conf import exports_settings
from exports.exceptions import ExportCancelled, ExportFailed
from exports.formats import FormatWriter, get_writer
from exports.registry import Dataset
from opsconsole.env import VAR_DIR


def temp_dir() -> Path:
    path = Path(exports_settings.TEMP_DIR or VAR_DIR / "tmp" / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def read_snapshot(alias: str = DEFAULT_DB_ALIAS) -> Iterator[BaseDatabaseWrapper]:
    """A second connection to `alias` holding one read-only transaction (REPEATABLE READ on PostgreSQL).

    SQLite in WAL mode gives a `BEGIN DEFERRED` reader the same guarantee: one snapshot
    from its first read to its end.
    """
    default = connections[alias]
    conn = type(default)(default.settings_dict, default.alias)
    try:
        if conn.vendor == "postgresql":
            conn.set_autocommit(False)
            with conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                # Fixed output settings: the COPY text must match the Python CSV writer byte for byte.
                cursor.execute("SET LOCAL TimeZone = 'UTC'")
                cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        else:
            conn.ensure_connection()
            with conn.cursor() as cursor:
                cursor.execute("BEGIN DEFERRED")
        yield conn
    finally:
        try:
            if conn.connection is not None:
                if conn.vendor == "postgresql":
                    conn.rollback()
                else:
                    with conn.cursor() as cursor:
                        cursor.execute("ROLLBACK")
        finally:
            conn.close()


@contextmanager
def read_snapshots(aliases: Iterable[str]) -> Iterator[dict[str, BaseDatabaseWrapper]]:
    """One read-only snapshot per database: a snapshot mixing a source's tables with built-in
    datasets reads each database consistently (two databases share no transaction)."""
    with ExitStack() as stack:
        yield {alias: stack.enter_context(read_snapshot(alias)) for alias in sorted(set(aliases))}


class HashingFile:
    """A write-only binary stream that keeps the SHA-256 and size of what passes through.

    Small writes are gathered into 256 KiB blocks before they are hashed and written. (A
    helper thread for hashing was measured too: on two busy cores the GIL hand-offs made it
    slower than hashing inline.) Use it as a context manager; `size` and `sha256` are final
    after the block.
    """

    BLOCK = 1 << 18

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.size = 0
        self._digest = hashlib.sha256()
        self._buffer = bytearray()

    def _write_block(self, block: bytes | bytearray | memoryview) -> None:
        self._digest.update(block)
        self.raw.write(block)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        size = len(data)
        self.size += size
        if not self._buffer and size >= self.BLOCK:
            self._write_block(data)
            return size
        self._buffer += data
        if len(self._buffer) >= self.BLOCK:
            self._write_block(self._buffer)
            self._buffer.clear()
        return size

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        """Blocks are written as they fill; the last one on exit."""

    def close(self) -> None:
        """Library writers close their stream when done; the file is finished on exit."""

    @property
    def closed(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            if self._buffer:
                self._write_block(self._buffer)
            self.raw.flush()
        self._buffer.clear()


class Progress:
    """Write rows_written at most once per PROGRESS_INTERVAL and stop if the job was cancelled.

    `report(rows_written)` is called from the writing loop with the running total; it
    writes and reads the job row only when the interval has passed.
    """

    def __init__(self, job_id: int, *, on_flush: Callable[[int], bool], attempt: int = 0) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.on_flush = on_flush
        self.interval = float(exports_settings.PROGRESS_INTERVAL)
        self.rows = 0
        self.base = 0  # rows of earlier datasets in a snapshot
        self._last = time.monotonic()

    def report(self, rows: int, *, force: bool = False) -> None:
        self.rows = self.base + rows
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            if not self.on_flush(self.rows):
                raise ExportCancelled("The job was cancelled.")


@dataclass
class WrittenFile:
    path: Path
    rows: int
    size: int
    sha256: str
    columns: list[str] = field(default_factory=list)


TEMP_NAME = re.compile(r"^export-(?P<job>\d+)-(?P<attempt>\d+)-")


def temp_prefix(job_id: int, attempt: int) -> str:
    """Temp files are named after their job and attempt, so the files of a dead attempt can be found."""
    return f"export-{job_id}-{attempt}-"


def new_temp_path(suffix: str, progress: Progress) -> Path:
    fd, name = tempfile.mkstemp(prefix=temp_prefix(progress.job_id, progress.attempt), suffix=suffix, dir=temp_dir())
    os.close(fd)
    return Path(name)


def count_rows(conn: BaseDatabaseWrapper, dataset: Dataset, params: Mapping[str, Any]) -> int:
    sql, sql_params = (
        dataset.filtered_queryset(params).order_by().values("pk").query.get_compiler(connection=conn).as_sql()
    )
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS export_rows", sql_params)
        return int(cursor.fetchone()[0])


def check_row_cap(total: int, *, what: str) -> None:
    cap = int(exports_settings.ROW_CAP)
    if total > cap:
        raise ExportFailed(
            f"{what} selects {total:,} rows, more than the row cap of {cap:,} (EXPORTS['ROW_CAP']); "
            "narrow the filters or split the export. Nothing was written."
        )


def use_copy(conn: BaseDatabaseWrapper, writer_class: type[FormatWriter]) -> bool:
    return bool(writer_class.copy_options) and conn.vendor == "postgresql" and bool(exports_settings.USE_COPY)


def write_dataset(
    conn: BaseDatabaseWrapper,
    dataset: Dataset,
    params: Mapping[str, Any],
    format_name: str,
    progress: Progress,
    *,
    total: int,
    force_generic: bool = False,
) -> WrittenFile:
    """Write one dataset to a new temp file; the caller owns (and removes) the file."""
    writer_class = get_writer(format_name)
    if writer_class.max_rows is not None and total > writer_class.max_rows:
        raise ExportFailed(
            f"{dataset.name} selects {total:,} rows; a {writer_class.name} file holds at most "
            f"{writer_class.max_rows:,}. Choose csv, jsonl or parquet, or narrow the filters."
        )
    path = new_temp_path(f".{writer_class.extension}", progress)
    writer: FormatWriter | None = None
    try:
        with open(path, "wb") as raw, HashingFile(raw) as out:
            writer = writer_class(out, dataset.resolved)  # type: ignore[arg-type]
            writer.begin()
            if use_copy(conn, writer_class) and not force_generic:
                rows = _copy_rows(conn, dataset, params, writer_class, out, progress, total=total)
            else:
                rows = _python_rows(conn, dataset, params, writer, progress)
            writer.finish()
    except BaseException:
        # A partial file never outlives the attempt that wrote it (cancel, failure, time limit).
        if writer is not None:
            writer.abort()
        path.unlink(missing_ok=True)
        raise
    return WrittenFile(path=path, rows=rows, size=out.size, sha256=out.sha256, columns=dataset.column_names)


def _python_rows(
    conn: BaseDatabaseWrapper, dataset: Dataset, params: Mapping[str, Any], writer: FormatWriter, progress: Progress
) -> int:
    chunk_size = int(exports_settings.CHUNK_SIZE)
    cap = int(exports_settings.ROW_CAP)
    compiler = dataset.rows_queryset(params).query.get_compiler(connection=conn)
    # execute_sql(MULTI) yields the rows a fetch at a time from a server-side cursor on
    # PostgreSQL; closing the generator closes that cursor while the connection is still open.
    chunks = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=chunk_size)
    converters = compiler.get_converters([select[0] for select in compiler.select[: compiler.col_count]])
    written = 0
    try:
        for chunk in chunks:
            rows = list(map(tuple, compiler.apply_converters(chunk, converters))) if converters else chunk
            written += len(rows)
            if written > cap:
                check_row_cap(written, what=dataset.name)
            writer.write_rows(rows)
            progress.report(written)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    progress.report(written, force=True)
    return written


def _copy_rows(
    conn: BaseDatabaseWrapper,
    dataset: Dataset,
    params: Mapping[str, Any],
    writer_class: type[FormatWriter],
    out: HashingFile,
    progress: Progress,
    *,
    total: int,
) -> int:
    """Let PostgreSQL format the rows: COPY (<the filtered query>) TO STDOUT, written as it arrives."""
    queryset = dataset.rows_queryset(params, as_text=writer_class.copy_as_text)
    sql, sql_params = queryset.query.get_compiler(connection=conn).as_sql()
    select = writer_class.copy_select(sql, dataset.resolved)
    statement = f"COPY ({select}) TO STDOUT WITH ({writer_class.copy_options})"
    block = bytearray()
    block_size = HashingFile.BLOCK
    seen = 0
    with conn.cursor() as cursor:
        # psycopg 3 binds the parameters client-side, so Django's (sql, params) go in as they are.
        with cursor.cursor.copy(statement, sql_params) as copy:
            # The server sends one message per row: this loop is the per-row cost, keep it bare.
            for seen, data in enumerate(copy, 1):  # noqa: B007 - `seen` is the running row count
                block += data
                if len(block) >= block_size:
                    out.write(block)
                    block.clear()
                    progress.report(min(seen, total))
        out.write(block)
        rows = cursor.cursor.rowcount
    check_row_cap(rows, what=dataset.name)
    progress.report(rows, force=True)
    return rows


def write_snapshot(
    conns: Mapping[str, BaseDatabaseWrapper],
    entries: list[tuple[Dataset, dict[str, Any]]],
    format_name: str,
    progress: Progress,
    *,
    totals: list[int],
    job_id: int,
    temp_files: list[Path],
) -> WrittenFile:
    """One zip: a file per dataset and manifest.json, every file read in the same transaction."""
    writer_class = get_writer(format_name)
    generated_at = timezone.now()
    manifest_entries = []
    written_files = []
    for (dataset, params), total in zip(entries, totals, strict=True):
        written = write_dataset(conns[dataset.using], dataset, params, format_name, progress, total=total)
        temp_files.append(written.path)
        progress.base += written.rows
        arcname = f"{dataset.name}.{writer_class.extension}"
        written_files.append((written, arcname))
        manifest_entries.append(
            {
                "dataset": dataset.name,
                "file": arcname,
                "rows": written.rows,
                "size": written.size,
                "sha256": written.sha256,
                "filters": params,
                "columns": written.columns,
            }
        )
    manifest = {
        "job_id": job_id,
        "generated_at": generated_at.isoformat(),
        "format": format_name,
        "consistency": "; ".join(
            f"{alias}: " * (len(conns) > 1)
            + (
                "one REPEATABLE READ transaction"
                if conn.vendor == "postgresql"
                else f"one {conn.vendor} read transaction"
            )
            for alias, conn in conns.items()
        ),
        "datasets": manifest_entries,
    }
    path = new_temp_path(".zip", progress)
    temp_files.append(path)  # the caller removes it, whatever happens
    with (
        open(path, "wb") as raw,
        HashingFile(raw) as out,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive,  # type: ignore[arg-type]
    ):
        for written, arcname in written_files:
            progress.report(progress.rows, force=True)  # a sign of life (and a cancel check) per file
            archive.write(written.path, arcname)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return WrittenFile(
        path=path,
        rows=sum(w.rows for w, _ in written_files),
        size=out.size,
        sha256=out.sha256,
    )
