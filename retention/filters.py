"""FilterSets of the /system/retention lists (unknown keys are a 400: StrictFilterBackend)."""

from __future__ import annotations

import django_filters
from django.utils.choices import BaseChoiceIterator

from opsconsole.api.filters import IsoDateTimeFromToRangeFilter, StrictBooleanFilter
from retention.models import DataRetentionPolicy, PurgeRun, PurgeStatus, PurgeTrigger
from retention.registry import registry


class CategoryChoices(BaseChoiceIterator):
    """The registered categories, read when used (apps register theirs as they start)."""

    def __iter__(self):
        return iter([(name, name) for name in registry.names()])

    def __len__(self) -> int:
        return len(registry.names())


category_choices = CategoryChoices()


class PolicyFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=category_choices)
    enabled = StrictBooleanFilter()
    legal_hold = StrictBooleanFilter()

    class Meta:
        model = DataRetentionPolicy
        fields = ["category", "enabled", "legal_hold"]


class PurgeRunFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=category_choices)
    status = django_filters.ChoiceFilter(choices=PurgeStatus.choices)
    trigger = django_filters.ChoiceFilter(choices=PurgeTrigger.choices)
    dry_run = StrictBooleanFilter()
    # ?started_after=…&started_before=… (ISO 8601)
    started = IsoDateTimeFromToRangeFilter(field_name="started_at")

    class Meta:
        model = PurgeRun
        fields = ["category", "status", "trigger", "dry_run", "started"]
