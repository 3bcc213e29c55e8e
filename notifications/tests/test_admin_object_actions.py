"""The buttons on a notification's and a channel's page: services, permissions, read-only mode, audit records."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from notifications.models import NotificationAttempt, NotificationChannel, NotificationOutbox, NotificationStatus
from notifications.tests.factories import ChannelFactory, OutboxFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def outbox_action(notification, tool):
    return reverse("admin:notifications_notificationoutbox_actions", kwargs={"pk": notification.pk, "tool": tool})


def channel_action(channel, tool):
    return reverse("admin:notifications_notificationchannel_actions", kwargs={"pk": channel.pk, "tool": tool})


def test_a_failed_notification_is_retried_from_its_page(staff_client):
    notification = OutboxFactory(status=NotificationStatus.FAILED, attempts=3)
    page = staff_client.get(reverse("admin:notifications_notificationoutbox_change", args=[notification.pk]))
    assert outbox_action(notification, "retry") in page.content.decode()
    assert outbox_action(notification, "cancel_this") not in page.content.decode()  # only pending ones

    response = staff_client.post(outbox_action(notification, "retry"), follow=True)

    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert response.redirect_chain[-1][0].endswith(f"/{notification.pk}/change/")
    assert f"Notification #{notification.pk} queued again." in messages_of(response)


def test_a_pending_notification_is_cancelled_from_its_page(staff_client):
    notification = OutboxFactory()
    staff_client.post(outbox_action(notification, "cancel_this"))
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.CANCELLED


def test_an_illegal_transition_is_a_message_not_a_500(staff_client):
    notification = OutboxFactory(status=NotificationStatus.SENT)
    response = staff_client.post(outbox_action(notification, "retry"), follow=True)
    assert response.status_code == 200
    assert any("Retry: not done. Only failed or cancelled" in m for m in messages_of(response))
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT


def test_actions_answer_post_only(staff_client):
    notification = OutboxFactory(status=NotificationStatus.FAILED)
    assert staff_client.get(outbox_action(notification, "retry")).status_code == 405
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED


def test_actions_keep_the_csrf_check(staff_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    notification = OutboxFactory(status=NotificationStatus.FAILED)
    assert client.post(outbox_action(notification, "retry")).status_code == 403
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED


def test_a_view_only_user_sees_no_buttons_and_gets_403(staff_client_with):
    viewer = staff_client_with("view_notificationoutbox", "view_notificationchannel")
    notification = OutboxFactory(status=NotificationStatus.FAILED)
    channel = WebhookChannelFactory()
    page = viewer.get(reverse("admin:notifications_notificationoutbox_change", args=[notification.pk]))
    assert page.status_code == 200
    assert "/actions/" not in page.content.decode()
    secret = channel.secret

    assert viewer.post(outbox_action(notification, "retry")).status_code == 403
    for tool in ("send_test_now", "pause", "rotate"):
        assert viewer.post(channel_action(channel, tool)).status_code == 403

    notification.refresh_from_db()
    channel.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED
    assert (channel.paused, channel.secret) == (False, secret)
    assert NotificationOutbox.objects.count() == 1


def test_read_only_mode_refuses_an_action_with_a_message(staff_client, switch_mode):
    notification = OutboxFactory(status=NotificationStatus.FAILED)
    switch_mode("read_only")
    response = staff_client.post(outbox_action(notification, "retry"), follow=True)
    assert response.status_code == 200
    assert any(m.startswith("Retry: not done. The console is in read_only mode") for m in messages_of(response))
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED


def test_a_channel_is_paused_and_resumed_from_its_page(staff_client):
    channel = ChannelFactory()
    page = staff_client.get(reverse("admin:notifications_notificationchannel_change", args=[channel.pk])).content
    assert channel_action(channel, "pause").encode() in page
    assert channel_action(channel, "resume").encode() not in page

    staff_client.post(channel_action(channel, "pause"))
    channel.refresh_from_db()
    assert channel.paused

    staff_client.post(channel_action(channel, "resume"))
    channel.refresh_from_db()
    assert not channel.paused


def test_send_test_queues_a_notification_on_the_channel(staff_client):
    channel = ChannelFactory()
    response = staff_client.post(channel_action(channel, "send_test_now"), follow=True)
    notification = NotificationOutbox.objects.get(channel=channel)
    assert notification.payload["test"] is True
    assert any(f"notification #{notification.pk}" in m for m in messages_of(response))


def test_rotating_a_secret_shows_the_new_one_once(staff_client):
    channel = WebhookChannelFactory()
    old = channel.secret
    change_url = reverse("admin:notifications_notificationchannel_change", args=[channel.pk])

    response = staff_client.post(channel_action(channel, "rotate"), follow=True)

    channel.refresh_from_db()
    assert channel.secret != old and channel.previous_secret == old
    assert channel.secret in response.content.decode()  # the message, once
    again = staff_client.get(change_url).content.decode()
    assert channel.secret not in again and old not in again


def test_a_channel_without_a_secret_offers_no_rotation_and_refuses_one(staff_client):
    channel = ChannelFactory()  # a log channel
    page = staff_client.get(reverse("admin:notifications_notificationchannel_change", args=[channel.pk]))
    assert channel_action(channel, "rotate") not in page.content.decode()
    response = staff_client.post(channel_action(channel, "rotate"), follow=True)
    assert any("have no signing secret" in m for m in messages_of(response))
    assert NotificationChannel.objects.get(pk=channel.pk).secret == ""


def test_a_sent_notification_cannot_be_deleted_even_by_a_superuser(staff_client):
    notification = OutboxFactory(status=NotificationStatus.SENT)
    page = staff_client.get(reverse("admin:notifications_notificationoutbox_change", args=[notification.pk]))
    assert reverse("admin:notifications_notificationoutbox_delete", args=[notification.pk]) not in page.content.decode()
    response = staff_client.post(
        reverse("admin:notifications_notificationoutbox_delete", args=[notification.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert NotificationOutbox.objects.filter(pk=notification.pk).exists()


def test_staff_below_superuser_cannot_delete_notifications_or_attempts(staff_client_with):
    deleter = staff_client_with("view_notificationoutbox", "delete_notificationoutbox", "delete_notificationattempt")
    notification = OutboxFactory(status=NotificationStatus.FAILED)
    attempt = NotificationAttempt.objects.create(
        outbox=notification, number=1, outcome="failed", started_at=timezone.now()
    )
    assert (
        deleter.post(
            reverse("admin:notifications_notificationoutbox_delete", args=[notification.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        deleter.post(
            reverse("admin:notifications_notificationattempt_delete", args=[attempt.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert NotificationOutbox.objects.filter(pk=notification.pk).exists()
    assert NotificationAttempt.objects.filter(pk=attempt.pk).exists()
