"""Export jobs and the admin's change log as datasets."""

import django_filters
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from exports.models import ExportFormat, ExportJob, JobStatus
from exports.registry import Column, Dataset, register
from opsconsole.api.filters import IntegerFilter, IsoDateTimeFromToRangeFilter


class ExportJobExportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    job_type = django_filters.CharFilter()
    format = django_filters.ChoiceFilter(choices=ExportFormat.choices)
    requested_by = django_filters.CharFilter()
    created = IsoDateTimeFromToRangeFilter(field_name="created_at")

    class Meta:
        model = ExportJob
        fields: list[str] = []


class LogEntryExportFilter(django_filters.FilterSet):
    action_flag = django_filters.ChoiceFilter(
        choices=[(ADDITION, "addition"), (CHANGE, "change"), (DELETION, "deletion")]
    )
    user = IntegerFilter(field_name="user_id", label="User id")
    app_label = django_filters.CharFilter(field_name="content_type__app_label")
    model = django_filters.CharFilter(field_name="content_type__model")
    action_time = IsoDateTimeFromToRangeFilter()

    class Meta:
        model = LogEntry
        fields: list[str] = []


register(
    Dataset(
        name="exports.jobs",
        description="Export and snapshot jobs.",
        queryset=ExportJob.objects.all,
        columns=[
            "id",
            "created_at",
            "job_type",
            "format",
            "datasets",
            "filter_params",
            "status",
            "requested_by",
            Column("requested_by_user_id"),
            "note",
            "started_at",
            "completed_at",
            "rows_written",
            "total_rows",
            "file_size",
            "sha256",
            "expires_at",
            "error_message",
        ],
        filterset=ExportJobExportFilter,
    )
)

register(
    Dataset(
        name="admin.log",
        description="The Django admin's change log (LogEntry).",
        queryset=LogEntry.objects.all,
        columns=[
            "id",
            "action_time",
            Column("user_id"),
            Column("username", "user__username"),
            Column("app_label", "content_type__app_label"),
            Column("model", "content_type__model"),
            "object_id",
            "object_repr",
            "action_flag",
            "change_message",
        ],
        filterset=LogEntryExportFilter,
    )
)
