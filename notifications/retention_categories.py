"""Retention categories of the notifications app."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from retention.registry import RetentionCategory, register


@register
class OutboxCategory(RetentionCategory):
    name = "notifications.outbox"
    date_field = "created_at"
    default_days_to_keep = 90
    description = (
        "Notifications that reached an end state (sent, failed or cancelled), by creation time, "
        "with their attempt log. Pending and in-flight messages are never purged."
    )

    def get_model(self):
        from notifications.models import NotificationOutbox

        return NotificationOutbox

    def conditions(self) -> Q:
        from notifications.models import NotificationStatus

        return Q(status__in=NotificationStatus.finished())

    def before_delete_batch(self, batch: QuerySet, *, using: str) -> None:
        from notifications.models import NotificationAttempt

        # The attempt log goes with its notification, in the same transaction; one
        # DELETE … WHERE outbox_id IN (SELECT id …), no rows loaded.
        NotificationAttempt._default_manager.using(using).filter(outbox_id__in=batch.values("pk"))._raw_delete(using)


@register
class AttemptCategory(RetentionCategory):
    name = "notifications.attempts"
    date_field = "started_at"
    default_days_to_keep = 90
    description = "The delivery attempt log, by the time each attempt started."

    def get_model(self):
        from notifications.models import NotificationAttempt

        return NotificationAttempt
