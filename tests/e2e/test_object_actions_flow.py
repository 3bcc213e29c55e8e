"""Act on one record from its own page: retry a failed notification, rotate a channel's secret
(shown once, never again), with no console error on the way."""

from __future__ import annotations

import pytest

from notifications.models import NotificationChannel, NotificationOutbox, NotificationStatus
from notifications.tests.factories import OutboxFactory, WebhookChannelFactory
from tests.e2e.conftest import admin_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_retry_a_notification_and_rotate_a_secret_from_their_pages(page, staff_user, screenshot):
    channel = WebhookChannelFactory(name="ops-hook")
    notification = OutboxFactory(channel=channel, status=NotificationStatus.FAILED, attempts=8)
    old_secret = channel.secret
    admin_login(page, username=staff_user.username)

    page.goto(f"/admin/notifications/notificationoutbox/{notification.pk}/change/")
    assert not page.locator('[data-tool-name="cancel_this"]').count()  # only pending ones
    screenshot("failed-notification")
    page.click('[data-tool-name="retry"] button')
    assert f"Notification #{notification.pk} queued again." in page.locator(".messagelist").inner_text()
    assert NotificationOutbox.objects.get(pk=notification.pk).status == NotificationStatus.PENDING  # no worker here
    assert not page.locator('[data-tool-name="retry"]').count()  # pending now: no second retry
    screenshot("retried")

    page.goto(f"/admin/notifications/notificationchannel/{channel.pk}/change/")
    screenshot("channel-page")
    page.click('[data-tool-name="rotate"] button')
    channel = NotificationChannel.objects.get(pk=channel.pk)
    assert channel.secret != old_secret
    message = page.locator(".messagelist").inner_text()
    assert channel.secret in message and "not shown again" in message
    screenshot("secret-shown-once")

    page.reload()
    assert channel.secret not in page.content() and old_secret not in page.content()
    screenshot("secret-gone")
    assert page.console_errors == []
