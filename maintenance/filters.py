"""FilterSets for the /system/maintenance lists."""

from __future__ import annotations

import django_filters

from maintenance.models import MaintenanceEvent, Mode
from opsconsole.api.filters import IsoDateTimeFromToRangeFilter


class MaintenanceEventFilter(django_filters.FilterSet):
    to_mode = django_filters.ChoiceFilter(choices=Mode.choices, help_text="Mode after the change.")
    from_mode = django_filters.ChoiceFilter(choices=Mode.choices, help_text="Mode before the change.")
    actor = django_filters.CharFilter(field_name="actor_name", help_text="Username of who made the change.")
    source = django_filters.CharFilter(help_text="api, admin, command or schedule.")
    at = IsoDateTimeFromToRangeFilter(help_text="When the change was made: at_after / at_before (ISO 8601, inclusive).")

    class Meta:
        model = MaintenanceEvent
        fields = ["to_mode", "from_mode", "actor", "source", "at"]
