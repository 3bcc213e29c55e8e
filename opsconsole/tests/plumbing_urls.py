"""A small API over the admin log, to test the shared plumbing on its own."""

import django_filters
from django.contrib.admin.models import LogEntry
from rest_framework import serializers, viewsets

from opsconsole.api.routers import OptionalSlashRouter


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


router = OptionalSlashRouter()
router.register("log", LogEntryViewSet)
urlpatterns = router.urls
