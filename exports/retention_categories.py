"""Retention categories of the exports app."""

from __future__ import annotations

import contextlib

from django.db.models import Q, QuerySet

from retention.registry import RetentionCategory, register


@register
class ExportJobCategory(RetentionCategory):
    name = "exports.jobs"
    date_field = "created_at"
    default_days_to_keep = 30
    description = (
        "Finished export jobs (completed, failed or cancelled), by creation time, and their files in storage. "
        "Pending and running jobs are never purged."
    )

    def get_model(self):
        from exports.models import ExportJob

        return ExportJob

    def conditions(self) -> Q:
        from exports.models import JobStatus

        return Q(status__in=JobStatus.finished())

    def before_delete_batch(self, batch: QuerySet, *, using: str) -> None:
        from exports.services import delete_stored_file

        # Only the file names pass through Python. Files go first: if the process dies
        # after this, a rerun deletes the rows and a missing file is fine; the other
        # order could leave files that no row points to any more.
        for name in batch.exclude(file="").values_list("file", flat=True).iterator(chunk_size=2000):
            with contextlib.suppress(FileNotFoundError):
                delete_stored_file(name)
