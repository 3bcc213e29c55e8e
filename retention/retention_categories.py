"""Retention categories of the retention app itself, and of Django's admin log."""

from __future__ import annotations

from retention.registry import RetentionCategory, register


@register
class PurgeRunCategory(RetentionCategory):
    name = "retention.purge_runs"
    date_field = "started_at"
    default_days_to_keep = 365
    description = "The purge history (runs and dry runs), by start time."

    def get_model(self):
        from retention.models import PurgeRun

        return PurgeRun


@register
class AdminLogCategory(RetentionCategory):
    name = "admin.log"
    date_field = "action_time"
    default_days_to_keep = 365
    description = "Django admin's change log (LogEntry), by the time of the action."

    def get_model(self):
        from django.contrib.admin.models import LogEntry

        return LogEntry
