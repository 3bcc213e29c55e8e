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
