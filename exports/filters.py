"""FilterSet of the /system/exports list."""

import django_filters

from exports.models import ExportFormat, ExportJob, JobStatus
from opsconsole.api.filters import IsoDateTimeFromToRangeFilter


class ExportJobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    job_type = django_filters.CharFilter(help_text="A dataset name or 'snapshot'.")
    format = django_filters.ChoiceFilter(choices=ExportFormat.choices)
    requested_by = django_filters.CharFilter()
    created = IsoDateTimeFromToRangeFilter(
        field_name="created_at", help_text="created_after / created_before (ISO 8601)."
    )

    class Meta:
        model = ExportJob
        fields: list[str] = []
