"""FilterSets of the /system/notify lists (unknown keys are refused by the strict backend)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from notifications.models import ChannelType, NotificationChannel, NotificationOutbox, NotificationStatus

TRUE_VALUES = frozenset({"true", "1", "yes", "on"})
FALSE_VALUES = frozenset({"false", "0", "no", "off"})


class StrictBooleanField(forms.Field):
    """true/false (also 1/0, yes/no, on/off, any case); anything else is invalid, not "no filter".

    django-filter's BooleanFilter reads its value through NullBooleanSelect, which turns
    `?active=maybe` into None, and None means the filter is skipped: every row comes back.
    """

    widget = forms.TextInput

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


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
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    subject = django_filters.CharFilter(field_name="subject", lookup_expr="icontains", label="Subject contains")
    search = django_filters.CharFilter(method="filter_search", label="Subject or body contains")

    class Meta:
        model = NotificationOutbox
        fields = ["status", "channel"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(subject__icontains=value) | Q(body__icontains=value))
