from django.conf import settings
from django.db import models


class Mode(models.TextChoices):
    NORMAL = "normal", "Normal"
    READ_ONLY = "read_only", "Read-only"
    MAINTENANCE = "maintenance", "Maintenance"


class MaintenanceState(models.Model):
    """The one row (id=1) holding the current mode; change it only through services."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    mode = models.CharField(
        max_length=16, choices=Mode.choices, default=Mode.NORMAL, help_text="Current mode of the service."
    )
    message = models.TextField(blank=True, help_text="Shown to users on the maintenance page and in 503 answers.")
    retry_after = models.PositiveIntegerField(
        default=300, help_text="Seconds clients are told to wait (Retry-After header) while not normal."
    )
    until = models.DateTimeField(
        null=True, blank=True, help_text="When set, the mode returns to normal by itself at this time."
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who made the last change.",
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="When the mode last changed.")

    class Meta:
        db_table = "maintenance_state"
        verbose_name = "maintenance state"
        verbose_name_plural = "maintenance state"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="maintenance_state_singleton"),
            models.CheckConstraint(
                condition=models.Q(mode__in=[m.value for m in Mode]), name="maintenance_state_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()}"


class MaintenanceEvent(models.Model):
    """One change of mode: from, to, why, who and when."""

    from_mode = models.CharField(max_length=16, choices=Mode.choices, help_text="Mode before the change.")
    to_mode = models.CharField(max_length=16, choices=Mode.choices, help_text="Mode after the change.")
    reason = models.TextField(help_text="Why the mode changed.")
    message = models.TextField(blank=True, help_text="Message shown to users while in the new mode.")
    until = models.DateTimeField(null=True, blank=True, help_text="Automatic return to normal, if set.")
    retry_after = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds clients were told to wait (Retry-After) in the new mode."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The user who made the change (empty for commands and schedules).",
    )
    actor_name = models.CharField(
        max_length=150, blank=True, help_text="Who made the change, kept when the user is deleted."
    )
    source = models.CharField(
        max_length=16, blank=True, help_text="Where the change came from: api, admin, command, schedule."
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True, help_text="When the change was made.")

    class Meta:
        db_table = "maintenance_events"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["to_mode"], name="maint_event_to_mode_idx")]

    def __str__(self) -> str:
        return f"{self.from_mode} → {self.to_mode} at {self.at:%Y-%m-%d %H:%M:%S}"
