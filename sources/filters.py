"""FilterSets of the /system/sources lists (unknown keys are refused by the strict backend)."""

from __future__ import annotations

import django_filters

from sources.models import SourceTable


class SourceTableFilter(django_filters.FilterSet):
    source = django_filters.CharFilter()
    table = django_filters.CharFilter()

    class Meta:
        model = SourceTable
        fields = ["source", "table"]


class NoFilters(django_filters.FilterSet):
    """Views that take no query parameters: any key is a 400."""

    class Meta:
        model = SourceTable
        fields: list[str] = []


class OutboxFilter(django_filters.FilterSet):
    """The query keys of GET /system/sources/outbox (read by the view; validated here)."""

    source = django_filters.CharFilter(method="keep", required=True, label="The source's name (required)")
    status = django_filters.ChoiceFilter(
        method="keep", choices=[("pending", "pending"), ("error", "error")], label="pending or error (default both)"
    )

    class Meta:
        model = SourceTable
        fields: list[str] = []

    def keep(self, queryset, name, value):
        return queryset
