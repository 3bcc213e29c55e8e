"""FilterSets of the /system/retention lists (unknown keys are a 400: StrictFilterBackend)."""

from __future__ import annotations

import django_filters

from retention.models import DataRetentionPolicy, PurgeRun, PurgeStatus, PurgeTrigger


class PolicyFilter(django_filters.FilterSet):
    category = django_filters.CharFilter()
    enabled = django_filters.BooleanFilter()
    legal_hold = django_filters.BooleanFilter()

    class Meta:
        model = DataRetentionPolicy
        fields = ["category", "enabled", "legal_hold"]


class PurgeRunFilter(django_filters.FilterSet):
    category = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=PurgeStatus.choices)
    trigger = django_filters.ChoiceFilter(choices=PurgeTrigger.choices)
    dry_run = django_filters.BooleanFilter()
    # ?started_after=…&started_before=… (ISO 8601)
    started = django_filters.IsoDateTimeFromToRangeFilter(field_name="started_at")

    class Meta:
        model = PurgeRun
        fields = ["category", "status", "trigger", "dry_run", "started"]
