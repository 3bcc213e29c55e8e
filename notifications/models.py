from __future__ import annotations

import uuid

from django.db import models


class ChannelType(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Signed webhook"
    SLACK = "slack", "Slack"
    APPRISE = "apprise", "Apprise"
    LOG = "log", "Log"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def in_flight(cls) -> list[NotificationStatus]:
        """Still on its way: waiting for an attempt or being delivered (never purged)."""
        return [cls.PENDING, cls.SENDING]

    @classmethod
    def finished(cls) -> list[NotificationStatus]:
        """An end state: nothing happens to it unless staff retry or replay it."""
        return [cls.SENT, cls.FAILED, cls.CANCELLED]

    @classmethod
    def retryable(cls) -> list[NotificationStatus]:
        """What staff may send again (retry, replay takes failed ones only)."""
        return [cls.FAILED, cls.CANCELLED]

    @classmethod
    def open(cls) -> list[NotificationStatus]:
        """Not delivered (yet): in flight, or ended without delivery."""
        return [*cls.in_flight(), *cls.retryable()]


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    RETRY = "retry", "Will retry"
    FAILED = "failed", "Failed permanently"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class NotificationChannel(models.Model):
    """Where notifications go: one destination of one type (seed table notification_channels)."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    name = models.CharField(max_length=256, unique=True, help_text="Unique name used to pick the channel.")
    channel_type = models.CharField(max_length=64, choices=ChannelType.choices, help_text="How messages are delivered.")
    target = models.CharField(
        max_length=2048,
        help_text="Comma-separated addresses (email), an https URL (webhook, slack) or an Apprise URL.",
    )
    active = models.BooleanField(default=True, db_index=True, help_text="Inactive channels accept no new messages.")
    description = models.TextField(blank=True, null=True, help_text="What this channel is for.")
    config = models.JSONField(default=dict, blank=True, help_text="Per-type options, e.g. extra headers.")
    secret = models.CharField(
        max_length=128, blank=True, help_text="Webhook signing secret (whsec_…); shown only on create and rotate."
    )
    previous_secret = models.CharField(
        max_length=128,
        blank=True,
        help_text="The secret before the last rotation; deliveries are signed with it too until "
        "previous_secret_expires_at. Write-only, like the secret.",
    )
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="End of the rotation's grace period: after it only the secret signs."
    )
    max_attempts = models.PositiveSmallIntegerField(default=8, help_text="Deliveries tried before giving up.")
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many deliveries a minute (empty: no limit)."
    )
    consecutive_failures = models.PositiveIntegerField(default=0, help_text="Failed deliveries since the last success.")
    last_success_at = models.DateTimeField(null=True, blank=True, help_text="Last successful delivery.")
    last_failure_at = models.DateTimeField(null=True, blank=True, help_text="Last failed delivery.")
    last_error = models.TextField(blank=True, help_text="Error of the last failed delivery.")
    paused = models.BooleanField(
        default=False, db_index=True, help_text="Paused channels keep their messages queued until resumed."
    )
    disabled_reason = models.TextField(blank=True, help_text="Why the channel was paused or deactivated automatically.")

    class Meta:
        db_table = "notification_channels"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.channel_type})"


class NotificationOutbox(models.Model):
    """One message to deliver on one channel (seed table notification_outbox)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    channel = models.ForeignKey(
        NotificationChannel, on_delete=models.PROTECT, related_name="outbox", help_text="Channel to deliver on."
    )
    subject = models.CharField(max_length=512, blank=True, null=True, help_text="Subject or title.")
    body = models.TextField(help_text="Message text.")
    payload = models.JSONField(null=True, blank=True, help_text="Structured data sent with the message (an object).")
    status = models.CharField(
        max_length=32,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
        db_index=True,
        help_text="Delivery state.",
    )
    last_error = models.TextField(blank=True, null=True, help_text="Error of the last failed attempt.")
    attempts = models.PositiveIntegerField(default=0, help_text="Delivery attempts made so far.")
    retry_base = models.PositiveIntegerField(
        default=0,
        help_text="Attempts made before the last manual retry or replay; the channel's max_attempts counts from here.",
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When the next attempt is due.")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When delivery succeeded.")
    message_id = models.CharField(
        max_length=64,
        unique=True,
        default=new_message_id,
        editable=False,
        help_text="Stable id sent with every attempt (webhook-id), for receivers to de-duplicate.",
    )
    idempotency_key = models.CharField(
        max_length=255, null=True, blank=True, help_text="Client key: the same key on a channel returns the same row."
    )
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="Lease of the worker delivering it; expired leases are reclaimed."
    )

    class Meta:
        db_table = "notification_outbox"
        verbose_name = "outbox message"
        verbose_name_plural = "outbox"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="outbox_channel_idempotency_key_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due_idx"),
            models.Index(fields=["status", "locked_until"], name="outbox_status_lease_idx"),
            models.Index(fields=["channel", "created_at"], name="outbox_channel_created_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject or self.body[:40]} [{self.status}]"


class NotificationAttempt(models.Model):
    """One delivery attempt of one notification: the audit log."""

    outbox = models.ForeignKey(
        NotificationOutbox, on_delete=models.CASCADE, related_name="attempt_log", help_text="The notification."
    )
    number = models.PositiveIntegerField(help_text="1 for the first attempt, 2 for the second, …")
    started_at = models.DateTimeField(db_index=True, help_text="When the attempt started.")
    duration_ms = models.PositiveIntegerField(default=0, help_text="How long the attempt took.")
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices, db_index=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status, when HTTP was used.")
    error = models.TextField(blank=True, help_text="Error, if any.")
    response_excerpt = models.TextField(blank=True, help_text="First 1 KB of the response.")

    class Meta:
        db_table = "notification_attempts"
        ordering = ["outbox_id", "number"]
        indexes = [models.Index(fields=["outbox", "number"], name="attempt_outbox_number_idx")]

    def __str__(self) -> str:
        return f"attempt {self.number} of #{self.outbox_id}: {self.outcome}"
