"""Notification tables that may be exported (exports' dataset registry)."""

import django_filters
from django.db.models import Case, F, JSONField, Q, TextField, Value, When

from exports.registry import Column, Dataset, Kind, register
from notifications.channels.base import REDACTED
from notifications.models import (
    AttemptOutcome,
    ChannelType,
    NotificationAttempt,
    NotificationChannel,
    NotificationOutbox,
    NotificationStatus,
)
from opsconsole.api.filters import IntegerFilter, IsoDateTimeFromToRangeFilter, StrictBooleanFilter


class ChannelExportFilter(django_filters.FilterSet):
    channel_type = django_filters.ChoiceFilter(choices=ChannelType.choices)
    active = StrictBooleanFilter()
    paused = StrictBooleanFilter()
    name = django_filters.CharFilter(lookup_expr="icontains", label="Name contains")
    created = IsoDateTimeFromToRangeFilter(field_name="created_at")

    class Meta:
        model = NotificationChannel
        fields: list[str] = []


class OutboxExportFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=NotificationStatus.choices, distinct=False)
    channel = IntegerFilter(field_name="channel_id", label="Channel id")
    channel_type = django_filters.ChoiceFilter(field_name="channel__channel_type", choices=ChannelType.choices)
    created = IsoDateTimeFromToRangeFilter(field_name="created_at")
    sent = IsoDateTimeFromToRangeFilter(field_name="sent_at")

    class Meta:
        model = NotificationOutbox
        fields: list[str] = []


class AttemptExportFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(choices=AttemptOutcome.choices)
    outbox = IntegerFilter(field_name="outbox_id", label="Notification id")
    channel = IntegerFilter(field_name="outbox__channel_id", label="Channel id")
    http_status = IntegerFilter()
    started = IsoDateTimeFromToRangeFilter(field_name="started_at")

    class Meta:
        model = NotificationAttempt
        fields: list[str] = []


# The API redacts credentials in targets and config (each backend's redact_*); an export is
# made in SQL, so it redacts more coarsely: a Slack or Apprise target, or a webhook URL with a
# userinfo or query part, is replaced whole, and so are webhook headers.
REDACTED_TARGET = Case(
    When(channel_type__in=["slack", "apprise"], then=Value(REDACTED)),
    When(Q(channel_type="webhook") & (Q(target__contains="@") | Q(target__contains="?")), then=Value(REDACTED)),
    default=F("target"),
    output_field=TextField(),
)
REDACTED_CONFIG = Case(
    When(Q(channel_type="webhook") & Q(config__has_key="headers"), then=Value({"headers": REDACTED}, JSONField())),
    default=F("config"),
    output_field=JSONField(),
)

register(
    Dataset(
        name="notifications.channels",
        description="Notification channels (the webhook signing secret is never exported).",
        queryset=NotificationChannel.objects.all,
        # `secret` is deliberately absent: an export file must not carry signing keys.
        columns=[
            "id",
            "created_at",
            "updated_at",
            "name",
            "channel_type",
            Column("target", kind=Kind.STR, expression=REDACTED_TARGET),
            "active",
            "description",
            Column("config", kind=Kind.JSON, expression=REDACTED_CONFIG),
            "max_attempts",
            "rate_limit_per_minute",
            "consecutive_failures",
            "last_success_at",
            "last_failure_at",
            "last_error",
            "paused",
            "disabled_reason",
        ],
        filterset=ChannelExportFilter,
    )
)

register(
    Dataset(
        name="notifications.outbox",
        description="Notifications and their delivery state.",
        queryset=NotificationOutbox.objects.all,
        columns=[
            "id",
            "created_at",
            "updated_at",
            Column("channel_id"),
            "subject",
            "body",
            "payload",
            "status",
            "last_error",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "message_id",
            "idempotency_key",
        ],
        filterset=OutboxExportFilter,
    )
)

register(
    Dataset(
        name="notifications.attempts",
        description="Every delivery attempt: the audit log.",
        queryset=NotificationAttempt.objects.all,
        columns=[
            "id",
            Column("outbox_id"),
            "number",
            "started_at",
            "duration_ms",
            "outcome",
            "http_status",
            "error",
            "response_excerpt",
        ],
        filterset=AttemptExportFilter,
    )
)

# For `exports.admin_actions.export_rows_action` on the notification changelists: how the
# admin's filter parameters map onto these datasets' filters.
OUTBOX_ADMIN_LOOKUPS = {
    "status__exact": "status",
    "channel__id__exact": "channel",
    "channel__exact": "channel",
    "channel__channel_type__exact": "channel_type",
}
OUTBOX_ADMIN_DATE_FIELDS = {"created_at": "created", "sent_at": "sent"}
CHANNEL_ADMIN_LOOKUPS = {
    "channel_type__exact": "channel_type",
    "active__exact": "active",
    "paused__exact": "paused",
}
CHANNEL_ADMIN_DATE_FIELDS = {"created_at": "created"}
ATTEMPT_ADMIN_LOOKUPS = {"outbox__channel__id__exact": "channel", "outbox__id__exact": "outbox"}
ATTEMPT_ADMIN_DATE_FIELDS = {"started_at": "started"}
