"""Admin for notifications. Every change goes through services; attempts are a read-only audit log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from exports.admin_actions import ExportActionForm, export_rows_action
from notifications import services
from notifications.admin_forms import ChannelAdminForm
from notifications.admin_lookups import CLEAR_TARGET_TYPES, WriteOnlyLookupsRefused
from notifications.channels import BACKENDS
from notifications.datasets import (
    ATTEMPT_ADMIN_DATE_FIELDS,
    ATTEMPT_ADMIN_LOOKUPS,
    CHANNEL_ADMIN_DATE_FIELDS,
    CHANNEL_ADMIN_LOOKUPS,
    OUTBOX_ADMIN_DATE_FIELDS,
    OUTBOX_ADMIN_LOOKUPS,
)
from notifications.exceptions import ChannelInvalid, IllegalTransition
from notifications.models import NotificationAttempt, NotificationChannel, NotificationOutbox, NotificationStatus
from opsconsole.admin_display import flag_column, seconds_column
from opsconsole.admin_lookups import SafeModelAdmin
from opsconsole.admin_object_actions import ObjectActionsMixin, object_action
from opsconsole.errors import OpsConsoleError


@admin.register(NotificationChannel)
class NotificationChannelAdmin(ObjectActionsMixin, WriteOnlyLookupsRefused, SafeModelAdmin):
    form = ChannelAdminForm
    action_form = ExportActionForm
    change_actions = ["send_test_now", "pause", "resume", "rotate"]

    class Media:
        # A Media of its own replaces the inherited one: keep the buttons' stylesheet.
        css = {"all": [*ObjectActionsMixin.Media.css["all"], "notifications/channel_form.css"]}
        js = ["notifications/channel_form.js"]

    list_display = [
        "name",
        "channel_type",
        "active",
        "paused_flag",
        "health",
        "last_success_at",
        "consecutive_failures",
        "rate_limit_per_minute",
    ]
    list_filter = ["channel_type", "active", "paused"]
    # The signing secret, and the target and config of the types that carry credentials in
    # them (webhook and Slack URLs, Apprise URLs, Authorization headers), are never shown
    # again: no filter, search or sort may probe them. Targets shown in clear (e.g. email
    # addresses) are still searched, in get_search_results.
    secret_fields = ("secret", "previous_secret", "target", "config")
    search_fields = ["name", "description"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "paused_flag",
        "health",
        "has_secret",
        "previous_secret_signs_until",
        "consecutive_failures",
        "last_success_at",
        "last_failure_at",
        "last_error",
        "disabled_reason",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "channel_type", "target", "active", "description"]}),
        (
            "Delivery",
            {
                "fields": [
                    "config",
                    "max_attempts",
                    "rate_limit_per_minute",
                    "has_secret",
                    "previous_secret_signs_until",
                ]
            },
        ),
        (
            "Health",
            {
                "fields": [
                    "health",
                    "paused_flag",
                    "disabled_reason",
                    "consecutive_failures",
                    "last_success_at",
                    "last_failure_at",
                    "last_error",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    actions = [
        "send_test",
        "pause_channels",
        "resume_channels",
        "rotate_secret",
        export_rows_action(
            "notifications.channels", lookups=CHANNEL_ADMIN_LOOKUPS, date_fields=CHANNEL_ADMIN_DATE_FIELDS
        ),
    ]

    paused_flag = flag_column("paused", "paused", when_set="paused")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        # A channel being added has no health and no secret yet: no empty section, no empty rows.
        unsaved = {"has_secret", "previous_secret_signs_until"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in unsaved]})
            for name, options in fieldsets
            if name != "Health"
        ]

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            # Within the filtered rows handed in, so a search never widens the list filters.
            found |= queryset.filter(channel_type__in=CLEAR_TARGET_TYPES, target__icontains=search_term.strip())
        return found, may_have_duplicates

    @admin.display(description="health")
    def health(self, channel: NotificationChannel) -> str:
        if not channel.active:
            return "inactive"
        if channel.paused:
            return "paused"
        if channel.consecutive_failures:
            return f"failing ({channel.consecutive_failures})"
        return "ok" if channel.last_success_at else "no deliveries yet"

    @admin.display(description="signing secret", boolean=True)
    def has_secret(self, channel: NotificationChannel) -> bool:
        return bool(channel.secret)

    @admin.display(description="previous secret signs until")
    def previous_secret_signs_until(self, channel: NotificationChannel):
        # The date only: the previous secret is write-only like the secret.
        expires = channel.previous_secret_expires_at
        return expires if channel.previous_secret and expires and expires > timezone.now() else "—"

    def save_model(self, request, obj, form, change):
        if change:
            original = NotificationChannel.objects.get(pk=obj.pk)
            changes = {
                field: form.cleaned_data[field]
                for field in form.changed_data
                if field in services.CHANNEL_EDITABLE_FIELDS
            }
            services.channel_update(channel=original, **changes)
            return
        data = {field: form.cleaned_data.get(field) for field in services.CHANNEL_EDITABLE_FIELDS}
        data["config"] = data.get("config") or {}
        if data.get("max_attempts") is None:
            data.pop("max_attempts")
        channel = services.channel_create(**data)
        obj.pk = obj.id = channel.pk
        if channel.secret:
            self.message_user(request, self._secret_message(channel), messages.WARNING)

    def delete_model(self, request, obj):
        services.channel_delete(channel=obj)

    def _secret_message(self, channel: NotificationChannel):
        return format_html(
            "Signing secret of {}: <code>{}</code> — copy it now, it is not shown again.{}",
            channel.name,
            channel.secret,
            format_html(
                " The previous secret keeps signing alongside it until {}.",
                channel.previous_secret_expires_at.isoformat(timespec="seconds"),
            )
            if channel.previous_secret and channel.previous_secret_expires_at
            else "",
        )

    # --- the buttons on a channel's page -------------------------------------------
    @object_action(label="Send test", description="Queue a test notification on this channel")
    def send_test_now(self, request, channel: NotificationChannel) -> None:
        notification = services.channel_send_test(channel=channel)
        url = reverse("admin:notifications_notificationoutbox_change", args=[notification.pk])
        self.message_user(request, format_html('Test <a href="{}">notification #{}</a> queued.', url, notification.pk))

    @object_action(label="Pause", description="Hold deliveries until resumed", available=lambda c: not c.paused)
    def pause(self, request, channel: NotificationChannel) -> None:
        services.channel_pause(channel=channel, reason=f"Paused by {request.user} in the admin.")
        self.message_user(request, f"Paused {channel.name}: its notifications wait until it is resumed.")

    @object_action(label="Resume", description="Deliver the queued notifications again", available=lambda c: c.paused)
    def resume(self, request, channel: NotificationChannel) -> None:
        services.channel_resume(channel=channel)
        self.message_user(request, f"Resumed {channel.name}.")

    @object_action(
        label="Rotate secret",
        description="A new signing secret, shown once; the old one keeps signing for the grace period",
        available=lambda c: BACKENDS[c.channel_type].uses_secret if c.channel_type in BACKENDS else False,
    )
    def rotate(self, request, channel: NotificationChannel) -> None:
        services.channel_rotate_secret(channel=channel)
        self.message_user(request, self._secret_message(channel), messages.WARNING)

    # --- list actions ----------------------------------------------------------------
    @admin.action(description="Send a test notification", permissions=["change"])
    def send_test(self, request, queryset):
        for channel in queryset:
            try:
                services.channel_send_test(channel=channel)
            except OpsConsoleError as exc:
                self.message_user(request, f"{channel.name}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"Test notification queued for {channel.name}.")

    @admin.action(description="Pause deliveries", permissions=["change"])
    def pause_channels(self, request, queryset):
        for channel in queryset:
            services.channel_pause(channel=channel, reason=f"Paused by {request.user} in the admin.")
        self.message_user(request, f"Paused {queryset.count()} channel(s).")

    @admin.action(description="Resume deliveries", permissions=["change"])
    def resume_channels(self, request, queryset):
        for channel in queryset:
            services.channel_resume(channel=channel)
        self.message_user(request, f"Resumed {queryset.count()} channel(s).")

    @admin.action(description="Rotate the signing secret (shown once)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for channel in queryset:
            try:
                services.channel_rotate_secret(channel=channel)
            except ChannelInvalid as exc:
                self.message_user(request, f"{channel.name}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, self._secret_message(channel), messages.WARNING)


class AttemptInline(admin.TabularInline):
    model = NotificationAttempt
    fields = ["number", "started", "duration_ms", "outcome", "http_status", "error", "response_excerpt"]
    readonly_fields = fields
    started = seconds_column("started_at", "started at")
    extra = 0
    can_delete = False
    ordering = ["number", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationOutbox)
class NotificationOutboxAdmin(ObjectActionsMixin, WriteOnlyLookupsRefused, SafeModelAdmin):
    list_display = ["id", "channel", "subject", "status", "attempts", "next_attempt", "sent", "created_at"]
    next_attempt = seconds_column("next_attempt_at", "next attempt at")
    sent = seconds_column("sent_at", "sent at")
    list_filter = ["status", "channel", "created_at"]
    list_select_related = ["channel"]
    search_fields = ["subject", "body", "message_id", "idempotency_key"]
    date_hierarchy = "created_at"
    inlines = [AttemptInline]
    action_form = ExportActionForm
    change_actions = ["retry", "cancel_this"]
    actions = [
        "retry_now",
        "cancel",
        export_rows_action("notifications.outbox", lookups=OUTBOX_ADMIN_LOOKUPS, date_fields=OUTBOX_ADMIN_DATE_FIELDS),
    ]

    readonly_fields = [
        "channel",
        "subject",
        "body",
        "payload",
        "status",
        "attempts",
        "retry_base",
        "last_error",
        "next_attempt",
        "sent",
        "message_id",
        "idempotency_key",
        "locked_until",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        # Notifications are enqueued by code and the API (with on-commit delivery), not typed in.
        return False

    def has_change_permission(self, request, obj=None):
        # The change page is a read-only view; the list actions (which ask with obj=None) change state.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # An audit record: a sent notification is never deleted here (the retention purge
        # takes it), and only a superuser deletes the others; Cancel is the staff's tool.
        if obj is not None and obj.status == NotificationStatus.SENT:
            return False
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a selection may hold sent notifications
        return actions

    @object_action(
        label="Retry",
        description="Send it again now, with a fresh attempt budget",
        available=lambda n: n.status in NotificationStatus.retryable(),
    )
    def retry(self, request, notification: NotificationOutbox) -> None:
        services.notification_retry(notification=notification)
        self.message_user(request, f"Notification #{notification.pk} queued again.")

    @object_action(
        label="Cancel",
        description="Stop this pending notification from being delivered",
        available=lambda n: n.status == NotificationStatus.PENDING,
    )
    def cancel_this(self, request, notification: NotificationOutbox) -> None:
        services.notification_cancel(notification=notification)
        self.message_user(request, f"Notification #{notification.pk} cancelled.")

    @admin.action(description="Retry now (failed or cancelled)", permissions=["change"])
    def retry_now(self, request, queryset):
        self._apply(request, queryset, services.notification_retry, "queued again")

    @admin.action(description="Cancel (pending only)", permissions=["change"])
    def cancel(self, request, queryset):
        self._apply(request, queryset, services.notification_cancel, "cancelled")

    def _apply(self, request, queryset, service, verb: str) -> None:
        done, refused = 0, []
        for notification in queryset:
            try:
                service(notification=notification)
                done += 1
            except IllegalTransition:
                refused.append(f"#{notification.pk} ({notification.status})")
        if done:
            self.message_user(request, f"{done} notification(s) {verb}.")
        if refused:
            self.message_user(request, f"Not allowed for {', '.join(refused)}.", messages.WARNING)


@admin.register(NotificationAttempt)
class NotificationAttemptAdmin(WriteOnlyLookupsRefused, SafeModelAdmin):
    list_display = ["outbox", "number", "outcome", "http_status", "duration_ms", "started"]
    started = seconds_column("started_at", "started at")
    list_filter = ["outcome", ("outbox__channel", admin.RelatedOnlyFieldListFilter), "started_at"]
    list_select_related = ["outbox"]
    search_fields = ["outbox__message_id", "error", "response_excerpt"]
    date_hierarchy = "started_at"
    action_form = ExportActionForm
    actions = [
        export_rows_action(
            "notifications.attempts", lookups=ATTEMPT_ADMIN_LOOKUPS, date_fields=ATTEMPT_ADMIN_DATE_FIELDS
        )
    ]
    readonly_fields = [
        "outbox",
        "number",
        "started",
        "duration_ms",
        "outcome",
        "http_status",
        "error",
        "response_excerpt",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
