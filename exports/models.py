from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def active(cls) -> tuple[JobStatus, ...]:
        """Not finished yet: a worker will (or does) write the file; these may be cancelled."""
        return (cls.PENDING, cls.RUNNING)

    @classmethod
    def finished(cls) -> tuple[JobStatus, ...]:
        """End states: nothing changes a job in one of these any more (the retention purge takes them)."""
        return (cls.COMPLETED, cls.FAILED, cls.CANCELLED)


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"
    JSON = "json", "JSON"
    XLSX = "xlsx", "Excel (xlsx)"
    PARQUET = "parquet", "Parquet"


SNAPSHOT = "snapshot"


class ExportJob(models.Model):
    """A dataset (or a snapshot of several) + filters + format in, a file with checksum out."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker started writing.")
    completed_at = models.DateTimeField(null=True, blank=True, help_text="When the job finished, in any end state.")
    job_type = models.CharField(max_length=128, help_text="A dataset name, or 'snapshot' with a list of datasets.")
    format = models.CharField(max_length=16, choices=ExportFormat.choices, default=ExportFormat.CSV)
    datasets = models.JSONField(default=list, blank=True, help_text="Datasets of a snapshot.")
    filter_params = models.JSONField(default=dict, blank=True, help_text="Validated filters, never primary-key lists.")
    status = models.CharField(
        max_length=32, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True, help_text="Job state."
    )
    storage_url = models.CharField(max_length=512, blank=True, null=True, help_text="Where to download the file.")
    error_message = models.TextField(blank=True, null=True, help_text="Why the job failed.")
    requested_by = models.CharField(
        max_length=256,
        blank=True,
        null=True,
        help_text="Who asked for it: the signed-in user's username, or the OS user of a manage.py export.",
    )
    note = models.CharField(
        "Note (free text)", max_length=256, blank=True, default="", help_text="What the requester wrote about it."
    )
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows_written = models.BigIntegerField(default=0, help_text="Rows written so far.")
    total_rows = models.BigIntegerField(null=True, blank=True, help_text="Estimated rows in all.")
    file = models.CharField(max_length=512, blank=True, help_text="Path of the file in the export storage.")
    file_size = models.BigIntegerField(null=True, blank=True, help_text="Size of the file in bytes.")
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the file.")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="When the file expires.")
    cancel_requested = models.BooleanField(default=False, help_text="Set to stop a running job between chunks.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Times a worker has started this job.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life: enqueued, started or progress written."
    )

    class Meta:
        db_table = "export_jobs"
        ordering = ["-id"]
        indexes = [models.Index(fields=["job_type", "status"], name="export_type_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in JobStatus]), name="export_job_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(format__in=[f.value for f in ExportFormat]), name="export_job_format_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"export #{self.pk} {self.job_type} ({self.format}) [{self.status}]"

    @property
    def download_path(self) -> str:
        """The API path that serves this job's file (what `storage_url` holds once completed)."""
        return f"/system/exports/{self.pk}/download"

    @property
    def download_name(self) -> str:
        """A file name that says what the file is: `notifications.outbox-42-20261126-084500.csv`."""
        # Imported here so loading the models does not load the writers (and DRF behind them).
        from exports.formats import get_writer

        stamp = (self.created_at or timezone.now()).strftime("%Y%m%d-%H%M%S")
        extension = "zip" if self.job_type == SNAPSHOT else get_writer(self.format).extension
        return f"{self.job_type}-{self.pk}-{stamp}.{extension}"

    @property
    def progress(self) -> float | None:
        """Share of rows written, 0..1, when the total is known."""
        if self.status == JobStatus.COMPLETED:
            return 1.0
        if not self.total_rows:
            return None
        return min(1.0, self.rows_written / self.total_rows)
