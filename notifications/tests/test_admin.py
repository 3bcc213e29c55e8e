import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from notifications.models import NotificationChannel, NotificationOutbox, NotificationStatus
from notifications.tests.factories import ChannelFactory, OutboxFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db


def webhook_headers(headers: dict) -> dict:
    """The channel form's header rows (notifications/admin_config_widget.py), as a browser posts them."""
    return {"config__webhook__headers__name": list(headers), "config__webhook__headers__value": list(headers.values())}


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("model", ["notificationchannel", "notificationoutbox", "notificationattempt"])
def test_changelists_render(admin_client, model):
    OutboxFactory()
    assert admin_client.get(reverse(f"admin:notifications_{model}_changelist")).status_code == 200


def test_adding_a_webhook_channel_in_the_admin_shows_its_secret_once(admin_client, allow_private):
    response = admin_client.post(
        reverse("admin:notifications_notificationchannel_add"),
        {
            "name": "hook",
            "channel_type": "webhook",
            "target": "http://127.0.0.1:9/hook",
            "active": "on",
            "config": "{}",
            "max_attempts": "8",
        },
        follow=True,
    )
    channel = NotificationChannel.objects.get(name="hook")
    assert channel.secret.startswith("whsec_")
    assert any(channel.secret in m for m in messages_of(response))
    change_page = admin_client.get(reverse("admin:notifications_notificationchannel_change", args=[channel.pk]))
    assert channel.secret not in change_page.content.decode()


def test_the_admin_form_shows_the_services_validation_errors(admin_client):
    response = admin_client.post(
        reverse("admin:notifications_notificationchannel_add"),
        {"name": "mail", "channel_type": "email", "target": "not-an-address", "config": "{}", "max_attempts": "8"},
    )
    assert response.status_code == 200
    assert "Invalid email address" in response.content.decode()
    assert not NotificationChannel.objects.exists()


def test_the_admin_refuses_a_rate_limit_the_api_refuses(admin_client):
    form = {"name": "ops", "channel_type": "log", "target": "ops", "config": "{}", "max_attempts": "8"}
    url = reverse("admin:notifications_notificationchannel_add")
    response = admin_client.post(url, {**form, "rate_limit_per_minute": "100001"})
    assert response.status_code == 200
    assert "from 1 to 100000" in response.content.decode()
    assert not NotificationChannel.objects.exists()
    admin_client.post(url, {**form, "rate_limit_per_minute": "100000"})
    assert NotificationChannel.objects.get().rate_limit_per_minute == 100_000


def test_rotate_secret_action_shows_the_new_secret(admin_client):
    channel = WebhookChannelFactory()
    old = channel.secret
    action = {"action": "rotate_secret", "_selected_action": [channel.pk]}
    url = reverse("admin:notifications_notificationchannel_changelist")
    redirect = admin_client.post(url, action)
    channel.refresh_from_db()
    assert channel.secret != old
    # The message waits server-side: no cookie carries the secret to the browser.
    assert "messages" not in redirect.cookies
    response = admin_client.get(redirect["Location"])
    assert any(channel.secret in m for m in messages_of(response))


def test_pause_resume_and_send_test_actions(admin_client):
    channel = ChannelFactory()
    url = reverse("admin:notifications_notificationchannel_changelist")
    admin_client.post(url, {"action": "pause_channels", "_selected_action": [channel.pk]})
    channel.refresh_from_db()
    assert channel.paused
    admin_client.post(url, {"action": "resume_channels", "_selected_action": [channel.pk]})
    channel.refresh_from_db()
    assert not channel.paused
    admin_client.post(url, {"action": "send_test", "_selected_action": [channel.pk]})
    assert NotificationOutbox.objects.filter(channel=channel).count() == 1


def test_outbox_retry_and_cancel_actions_follow_the_state_machine(admin_client):
    failed = OutboxFactory(status=NotificationStatus.FAILED)
    pending = OutboxFactory()
    sent = OutboxFactory(status=NotificationStatus.SENT)
    url = reverse("admin:notifications_notificationoutbox_changelist")
    response = admin_client.post(url, {"action": "retry_now", "_selected_action": [failed.pk, sent.pk]}, follow=True)
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == NotificationStatus.PENDING and sent.status == NotificationStatus.SENT
    assert any("Not allowed" in m for m in messages_of(response))
    admin_client.post(url, {"action": "cancel", "_selected_action": [pending.pk]})
    pending.refresh_from_db()
    assert pending.status == NotificationStatus.CANCELLED


def test_the_outbox_page_shows_every_attempt_read_only(admin_client, sink):
    from notifications.delivery.dispatcher import notification_dispatch_due

    sink.statuses = [503, 204]
    notification = OutboxFactory(channel=WebhookChannelFactory(target=sink.url))
    notification_dispatch_due()
    page = admin_client.get(reverse("admin:notifications_notificationoutbox_change", args=[notification.pk]))
    content = page.content.decode()
    assert "endpoint answered 503" in content
    assert 'name="_save"' not in content


def test_outbox_rows_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:notifications_notificationoutbox_add")).status_code == 403


def test_editing_a_channel_in_the_admin_goes_through_the_service(admin_client):
    channel = ChannelFactory(channel_type="email", target="a@example.com")
    url = reverse("admin:notifications_notificationchannel_change", args=[channel.pk])
    form = {"name": channel.name, "channel_type": "email", "config": "{}", "max_attempts": "8", "active": "on"}
    admin_client.post(url, {**form, "target": "b@example.com,  c@example.com"})
    channel.refresh_from_db()
    assert channel.target == "b@example.com, c@example.com"
    response = admin_client.post(url, {**form, "target": "broken"})
    assert "Invalid email address" in response.content.decode()


def test_the_change_form_hides_credentials_and_keeps_them_when_left_as_shown(admin_client, allow_private):
    channel = ChannelFactory(
        channel_type="webhook",
        target="http://127.0.0.1:9/hook?token=sEcReT1",
        config={"headers": {"Authorization": "Bearer sEcReT2"}},
    )
    url = reverse("admin:notifications_notificationchannel_change", args=[channel.pk])
    page = admin_client.get(url).content.decode()
    assert "sEcReT" not in page and "********" in page
    form = {
        "name": "renamed",
        "channel_type": "webhook",
        "target": "http://127.0.0.1:9/hook?token=********",
        **webhook_headers({"Authorization": "********", "X-Team": "ops"}),
        "max_attempts": "8",
        "active": "on",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()
    channel.refresh_from_db()
    assert channel.name == "renamed"
    assert channel.target == "http://127.0.0.1:9/hook?token=sEcReT1"
    assert channel.config == {"headers": {"Authorization": "Bearer sEcReT2", "X-Team": "ops"}}


def test_the_change_form_never_moves_a_stored_header_to_a_new_server(admin_client, allow_private):
    channel = ChannelFactory(
        channel_type="webhook",
        target="http://127.0.0.1:9/hook",
        config={"headers": {"Authorization": "Bearer sEcReT"}},
    )
    url = reverse("admin:notifications_notificationchannel_change", args=[channel.pk])
    moved = {
        "name": channel.name,
        "channel_type": "webhook",
        "max_attempts": "8",
        "active": "on",
        "target": "http://127.0.0.1:10/mine",
    }
    for headers in (
        {"Authorization": "********"},  # left as shown
        {"Authorization": "********", "X-Team": "ops"},  # edited, the credential sent back masked
    ):
        response = admin_client.post(url, {**moved, **webhook_headers(headers)})
        assert response.status_code == 200
        assert "config.headers.Authorization" in response.content.decode()
        channel.refresh_from_db()
        assert channel.target == "http://127.0.0.1:9/hook"
        assert channel.config == {"headers": {"Authorization": "Bearer sEcReT"}}
    response = admin_client.post(url, {**moved, **webhook_headers({"Authorization": "Bearer mine"})})
    assert response.status_code == 302, response.content.decode()
    channel.refresh_from_db()
    assert channel.target == "http://127.0.0.1:10/mine"
    assert channel.config == {"headers": {"Authorization": "Bearer mine"}}


def test_the_previous_secret_is_neither_shown_nor_filterable_in_the_admin(admin_client, notify_config):
    notify_config(SECRET_GRACE_HOURS=24)
    channel = WebhookChannelFactory()
    old = channel.secret
    admin_client.post(
        reverse("admin:notifications_notificationchannel_changelist"),
        {"action": "rotate_secret", "_selected_action": [channel.pk]},
        follow=True,  # the page that shows the new secret once
    )
    channel.refresh_from_db()
    assert channel.previous_secret == old
    page = admin_client.get(reverse("admin:notifications_notificationchannel_change", args=[channel.pk]))
    assert old not in page.content.decode() and channel.secret not in page.content.decode()
    assert "previous secret signs until" in page.content.decode().lower()
    OutboxFactory(channel=channel)
    for model, lookup in (
        ("notificationchannel", "secret__startswith"),
        ("notificationchannel", "previous_secret__startswith"),
        ("notificationoutbox", "channel__previous_secret__startswith"),
        ("notificationattempt", "outbox__channel__secret__startswith"),
    ):
        url = reverse(f"admin:notifications_{model}_changelist")
        assert admin_client.get(url, {lookup: old[:8]}).status_code == 400, lookup
