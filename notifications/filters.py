"""FilterSets of the /system/notify lists (unknown keys are refused by the strict backend)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from notifications.models import ChannelType, NotificationChannel, NotificationOutbox, NotificationStatus
from opsconsole.api.filters import IsoDateTimeFilter, StrictBooleanFilter


class ChannelFilter(django_filters.FilterSet):
    channel_type = django_filters.ChoiceFilter(choices=ChannelType.choices)
    active = StrictBooleanFilter()
    paused = StrictBooleanFilter()
    search = django_filters.CharFilter(method="filter_search", label="Name or description contains")

    class Meta:
        model = NotificationChannel
        fields = ["channel_type", "active", "paused"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class OutboxFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=NotificationStatus.choices)
    channel = django_filters.ModelChoiceFilter(queryset=NotificationChannel.objects.all())
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    subject = django_filters.CharFilter(field_name="subject", lookup_expr="icontains", label="Subject contains")
    search = django_filters.CharFilter(method="filter_search", label="Subject or body contains")

    class Meta:
        model = NotificationOutbox
        fields = ["status", "channel"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(subject__icontains=value) | Q(body__icontains=value))
