"""Queue a test notification on a channel (by name or id) and deliver it now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from notifications import selectors, services
from notifications.delivery.dispatcher import notification_deliver
from notifications.models import NotificationStatus
from opsconsole.errors import OpsConsoleError


class Command(BaseCommand):
    help = "Send a test notification to CHANNEL (its name or id) and report the outcome."

    def add_arguments(self, parser):
        parser.add_argument("channel", help="Channel name or id.")
        parser.add_argument("--queue-only", action="store_true", help="Only queue it; the dispatcher delivers it.")

    def handle(self, *args, channel: str, queue_only: bool, **options):
        try:
            target = selectors.channel_by_name_or_id(ref=channel)
            notification = services.channel_send_test(channel=target)
        except OpsConsoleError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(f"Queued test notification #{notification.pk} ({notification.message_id}) on {target.name}.")
        if queue_only:
            return
        notification_deliver(outbox_id=notification.pk)
        notification.refresh_from_db()
        attempt = notification.attempt_log.order_by("-number").first()
        if notification.status == NotificationStatus.SENT:
            self.stdout.write(self.style.SUCCESS(f"Sent in {attempt.duration_ms} ms."))
            return
        reason = notification.last_error or "not delivered yet (channel paused, rate-limited or maintenance mode)"
        raise CommandError(f"Test notification #{notification.pk} is {notification.status}: {reason}")
