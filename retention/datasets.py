"""Retention tables that may be exported (exports' dataset registry)."""

import django_filters

from exports.registry import Column, Dataset, register
from retention.models import DataRetentionPolicy, PurgeRun, PurgeStatus, PurgeTrigger


class PolicyExportFilter(django_filters.FilterSet):
    category = django_filters.CharFilter()
    enabled = django_filters.BooleanFilter()
    legal_hold = django_filters.BooleanFilter()

    class Meta:
        model = DataRetentionPolicy
        fields: list[str] = []


class PurgeRunExportFilter(django_filters.FilterSet):
    category = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=PurgeStatus.choices)
    trigger = django_filters.ChoiceFilter(choices=PurgeTrigger.choices)
    dry_run = django_filters.BooleanFilter()
    started = django_filters.IsoDateTimeFromToRangeFilter(field_name="started_at")

    class Meta:
        model = PurgeRun
        fields: list[str] = []


register(
    Dataset(
        name="retention.policies",
        description="Retention policies per data category.",
        queryset=DataRetentionPolicy.objects.all,
        columns=[
            "id",
            "created_at",
            "updated_at",
            "category",
            "days_to_keep",
            "enabled",
            "description",
            "legal_hold",
            "last_purged_at",
        ],
        filterset=PolicyExportFilter,
    )
)

register(
    Dataset(
        name="retention.purge_runs",
        description="Every purge and dry run: the audit trail.",
        queryset=PurgeRun.objects.all,
        columns=[
            "id",
            "category",
            "trigger",
            Column("actor_id"),
            "actor_name",
            "dry_run",
            "cutoff",
            "matched",
            "deleted",
            "started_at",
            "finished_at",
            "status",
            "error",
        ],
        filterset=PurgeRunExportFilter,
    )
)
