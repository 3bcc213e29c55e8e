"""A small API over the admin log, to test the shared plumbing on its own."""

import django_filters
from django.contrib.admin.models import LogEntry
from django.urls import re_path
from rest_framework import serializers, viewsets


class LogEntryFilter(django_filters.FilterSet):
    action_time = django_filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = LogEntry
        fields = ["action_flag"]


class LogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LogEntry
        fields = ["id", "action_flag", "object_repr"]


class LogEntryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = LogEntry.objects.order_by("-id")
    serializer_class = LogEntrySerializer
    filterset_class = LogEntryFilter


# Every path with and without its trailing slash, as the apps' urls.py route theirs.
urlpatterns = [re_path(r"^log/?$", LogEntryViewSet.as_view({"get": "list"}), name="log-list")]
