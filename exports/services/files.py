"""Export files in storage: storing a finished file, deleting one, and the expiry sweep."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from exports.models import ExportJob, JobStatus
from maintenance.exceptions import WritesBlocked
from maintenance.guards import refuse_writes_unless_normal

logger = logging.getLogger(__name__)


class _TempFile(File):
    """A finished temp file: FileSystemStorage moves it into place instead of copying it."""

    def temporary_file_path(self) -> str:
        return str(self.name)


def export_file_store(job: ExportJob, path: Path) -> str:
    """Move a finished temp file into the export storage under `exports/<id>/`; return its name."""
    name = f"exports/{job.pk}/{job.download_name}"
    with open(path, "rb") as handle:
        return default_storage.save(name, _TempFile(handle, name=str(path)))


def delete_stored_file(name: str) -> None:
    """Delete a job's file and, on a local file system, its folder once empty (exports/<id>/)."""
    if not name:
        return
    default_storage.delete(name)
    try:
        folder = os.path.dirname(default_storage.path(name))
    except NotImplementedError:  # object storage: no folders to leave behind
        return
    with contextlib.suppress(OSError):  # not empty, or already gone
        os.rmdir(folder)


def export_files_delete_expired(*, now: Any = None, batch_size: int = 500) -> dict[str, int]:
    """Delete the stored files of completed jobs past `expires_at`; the job rows stay as history.

    Downloads of such a job already answer 410; this frees the storage without waiting for
    the retention purge of `exports.jobs`, which keeps the rows (30 days by default) much
    longer than the files (EXPIRE_DAYS). The file goes before the row forgets it, so a crash
    in between leaves a row whose missing file the next sweep skips. Outside normal mode the
    sweep does nothing (it writes) and catches up once the mode is back.
    """
    counts = {"deleted": 0, "missing": 0}
    try:
        refuse_writes_unless_normal()
    except WritesBlocked:
        return counts
    now = now or timezone.now()
    while True:
        batch = list(
            ExportJob.objects.filter(status=JobStatus.COMPLETED, expires_at__lte=now)
            .exclude(file="")
            .order_by("pk")
            .values_list("pk", "file")[:batch_size]
        )
        if not batch:
            break
        for _pk, name in batch:
            if default_storage.exists(name):
                delete_stored_file(name)
                counts["deleted"] += 1
            else:
                counts["missing"] += 1
        ExportJob.objects.filter(pk__in=[pk for pk, _name in batch]).update(file="", updated_at=timezone.now())
    if any(counts.values()):
        logger.info("expired export files removed: %s", counts)
    return counts


@transaction.atomic
def export_job_delete(*, job: ExportJob) -> None:
    """Delete a job and its file (the file goes once the row is gone for good)."""
    name = job.file
    job.delete()
    if name:
        transaction.on_commit(lambda: delete_stored_file(name))
