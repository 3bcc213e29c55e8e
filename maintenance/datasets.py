"""Maintenance history that may be exported (exports' dataset registry)."""

import django_filters

from exports.registry import Column, Dataset, register
from maintenance.models import MaintenanceEvent, Mode
from opsconsole.api.filters import IsoDateTimeFromToRangeFilter


class MaintenanceEventExportFilter(django_filters.FilterSet):
    from_mode = django_filters.ChoiceFilter(choices=Mode.choices)
    to_mode = django_filters.ChoiceFilter(choices=Mode.choices)
    source = django_filters.CharFilter()
    at = IsoDateTimeFromToRangeFilter()

    class Meta:
        model = MaintenanceEvent
        fields: list[str] = []


register(
    Dataset(
        name="maintenance.events",
        description="Every change of maintenance mode: who, when, why.",
        queryset=MaintenanceEvent.objects.all,
        columns=[
            "id",
            "at",
            "from_mode",
            "to_mode",
            "reason",
            "message",
            "until",
            "retry_after",
            Column("actor_id"),
            "actor_name",
            "source",
        ],
        filterset=MaintenanceEventExportFilter,
    )
)
