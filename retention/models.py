from __future__ import annotations

from django.conf import settings
from django.db import models


class DataRetentionPolicy(models.Model):
    """How long one category of data is kept (seed table data_retention_policies)."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    category = models.CharField(max_length=128, unique=True, help_text="A registered retention category.")
    days_to_keep = models.PositiveIntegerField(help_text="Rows older than this many days are purged (1..36500).")
    enabled = models.BooleanField(default=True, help_text="Disabled policies are not purged.")
    description = models.TextField(blank=True, null=True, help_text="Why this period was chosen.")
    legal_hold = models.BooleanField(default=False, help_text="While set, nothing in this category is purged.")
    last_purged_at = models.DateTimeField(null=True, blank=True, help_text="When the last real purge finished.")

    class Meta:
        db_table = "data_retention_policies"
        verbose_name = "retention policy"
        verbose_name_plural = "retention policies"
        ordering = ["category"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(days_to_keep__gte=1, days_to_keep__lte=36500),
                name="retention_days_to_keep_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.days_to_keep} days"


class PurgeTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    COMMAND = "command", "Command"
    API = "api", "API"
    ADMIN = "admin", "Admin"


class PurgeStatus(models.TextChoices):
    QUEUED = "queued", "Queued for a worker"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    PARTIAL = "partial", "Stopped at the time budget"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"

    @classmethod
    def open(cls) -> tuple[PurgeStatus, ...]:
        """Not finished: a worker may still take (or has taken) the run."""
        return (cls.QUEUED, cls.RUNNING)

    @classmethod
    def succeeded(cls) -> tuple[PurgeStatus, ...]:
        """The purge did what it could: everything due, or as much as the time budget allowed."""
        return (cls.COMPLETED, cls.PARTIAL)


class PurgeRun(models.Model):
    """One purge (or dry run) of one category: the audit trail."""

    category = models.CharField(max_length=128, db_index=True)
    trigger = models.CharField(max_length=16, choices=PurgeTrigger.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="Who started it, kept after user deletion.")
    dry_run = models.BooleanField(default=False)
    cutoff = models.DateTimeField(null=True, blank=True, help_text="Rows older than this were due.")
    matched = models.BigIntegerField(default=0, help_text="Rows due at the start.")
    deleted = models.BigIntegerField(default=0, help_text="Rows deleted.")
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=PurgeStatus.choices, default=PurgeStatus.RUNNING, db_index=True)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "purge_runs"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.category} {'dry run' if self.dry_run else 'purge'} [{self.status}]"


class PurgeLock(models.Model):
    """The lock row that lets one purge run at a time where advisory locks do not exist (SQLite).

    A holder refreshes `expires_at` after every batch; a row past `expires_at` was left by
    a crashed purge and may be taken over, so a crash never blocks purging for good.
    """

    name = models.CharField(max_length=64, primary_key=True)
    token = models.CharField(max_length=64, help_text="Random token of the holder; only it may refresh or release.")
    holder = models.CharField(max_length=255, blank=True, help_text="host:pid of the purging process.")
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="Taken over by another purge after this time.")

    class Meta:
        db_table = "purge_locks"

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
