"""Retention categories of the maintenance app."""

from __future__ import annotations

from retention.registry import RetentionCategory, register


@register
class MaintenanceEventCategory(RetentionCategory):
    name = "maintenance.events"
    date_field = "at"
    default_days_to_keep = 365
    description = "The history of maintenance mode changes, by the time of the change."

    def get_model(self):
        from maintenance.models import MaintenanceEvent

        return MaintenanceEvent
