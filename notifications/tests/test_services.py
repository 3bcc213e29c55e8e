import pytest

from notifications import services
from notifications.exceptions import (
    ChannelInactive,
    ChannelInUse,
    ChannelInvalid,
    ChannelNotFound,
    IllegalTransition,
    NotificationInvalid,
)
from notifications.models import NotificationChannel, NotificationOutbox, NotificationStatus
from notifications.tests.factories import ChannelFactory, OutboxFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db


def test_creating_a_webhook_channel_generates_a_whsec_secret(allow_private):
    channel = services.channel_create(name="hooks", channel_type="webhook", target="http://127.0.0.1:9/hook")
    assert channel.secret.startswith("whsec_")


def test_non_webhook_channels_have_no_secret():
    channel = services.channel_create(name="mail", channel_type="email", target="ops@example.com")
    assert channel.secret == ""


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"channel_type": "pigeon", "target": "x"}, "channel_type"),
        ({"channel_type": "webhook", "target": "not a url"}, "target"),
        ({"channel_type": "webhook", "target": "https://169.254.169.254/latest"}, "target"),
        ({"channel_type": "email", "target": "ops@example.com, nope"}, "target"),
        ({"channel_type": "log", "target": "ops", "config": ["a"]}, "config"),
        ({"channel_type": "webhook", "target": "https://93.184.215.14/h", "config": {"colour": "red"}}, "config"),
        ({"channel_type": "log", "target": "ops", "max_attempts": 0}, "max_attempts"),
        ({"channel_type": "log", "target": "ops", "max_attempts": 51}, "max_attempts"),
        ({"channel_type": "log", "target": "ops", "max_attempts": 2**15}, "max_attempts"),
        ({"channel_type": "log", "target": "ops", "rate_limit_per_minute": 0}, "rate_limit_per_minute"),
        ({"channel_type": "log", "target": "ops", "rate_limit_per_minute": 100_001}, "rate_limit_per_minute"),
        ({"channel_type": "log", "target": "ops", "rate_limit_per_minute": 2**31}, "rate_limit_per_minute"),
    ],
)
def test_bad_channel_input_names_the_field_and_writes_nothing(fields, bad_field):
    with pytest.raises(ChannelInvalid) as info:
        services.channel_create(name="x", **fields)
    assert bad_field in info.value.fields
    assert not NotificationChannel.objects.exists()


def test_a_duplicate_channel_name_is_refused():
    ChannelFactory(name="ops")
    with pytest.raises(ChannelInvalid) as info:
        services.channel_create(name="ops", channel_type="log", target="ops")
    assert "name" in info.value.fields


def test_loopback_webhook_target_is_refused_without_the_private_setting(settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ChannelInvalid) as info:
        services.channel_create(name="local", channel_type="webhook", target="https://127.0.0.1:8443/hook")
    assert "loopback" in info.value.fields["target"][0]


def test_the_type_of_a_channel_cannot_change():
    channel = ChannelFactory()
    with pytest.raises(ChannelInvalid) as info:
        services.channel_update(channel=channel, channel_type="email")
    assert "channel_type" in info.value.fields


def test_updating_the_target_validates_it_again():
    channel = ChannelFactory(channel_type="email", target="a@example.com")
    with pytest.raises(ChannelInvalid):
        services.channel_update(channel=channel, target="broken")
    channel.refresh_from_db()
    assert channel.target == "a@example.com"


def test_rotating_the_secret_replaces_it():
    channel = WebhookChannelFactory()
    old = channel.secret
    services.channel_rotate_secret(channel=channel)
    channel.refresh_from_db()
    assert channel.secret.startswith("whsec_") and channel.secret != old


def test_rotating_is_refused_for_channels_without_a_secret():
    with pytest.raises(ChannelInvalid):
        services.channel_rotate_secret(channel=ChannelFactory())


def test_a_channel_with_notifications_cannot_be_deleted():
    notification = OutboxFactory()
    with pytest.raises(ChannelInUse, match="deactivate"):
        services.channel_delete(channel=notification.channel)


def test_a_channel_without_notifications_is_deleted():
    channel = ChannelFactory()
    services.channel_delete(channel=channel)
    assert not NotificationChannel.objects.exists()


def test_enqueue_writes_a_pending_row_and_delivers_after_commit(django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        notification, created = services.notification_enqueue(channel_id=channel.pk, subject="s", body="b")
    assert created
    assert notification.status == NotificationStatus.PENDING
    assert notification.message_id.startswith("msg_")
    assert len(callbacks) == 1


def test_enqueue_with_the_same_idempotency_key_returns_the_same_row():
    channel = ChannelFactory()
    first, created_first = services.notification_enqueue(channel_id=channel.pk, body="b", idempotency_key="k-1")
    second, created_second = services.notification_enqueue(channel_id=channel.pk, body="b", idempotency_key="k-1")
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert NotificationOutbox.objects.count() == 1


def test_the_same_idempotency_key_on_another_channel_is_another_row():
    a, b = ChannelFactory(), ChannelFactory()
    first, _ = services.notification_enqueue(channel_id=a.pk, body="b", idempotency_key="k-1")
    second, created = services.notification_enqueue(channel_id=b.pk, body="b", idempotency_key="k-1")
    assert created and first.pk != second.pk


def test_enqueue_refuses_an_inactive_channel():
    channel = ChannelFactory(active=False)
    with pytest.raises(ChannelInactive):
        services.notification_enqueue(channel_id=channel.pk, body="b")
    assert not NotificationOutbox.objects.exists()


def test_enqueue_refuses_a_missing_channel():
    with pytest.raises(ChannelNotFound):
        services.notification_enqueue(channel_id=999, body="b")


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"body": ""}, "body"),
        ({"body": "b", "payload": [1, 2]}, "payload"),
        ({"body": "b", "subject": "x" * 513}, "subject"),
    ],
)
def test_bad_notification_input_is_refused(fields, bad_field):
    channel = ChannelFactory()
    with pytest.raises(NotificationInvalid) as info:
        services.notification_enqueue(channel_id=channel.pk, **fields)
    assert bad_field in info.value.fields
    assert not NotificationOutbox.objects.exists()


def test_only_failed_or_cancelled_notifications_can_be_retried():
    with pytest.raises(IllegalTransition):
        services.notification_retry(notification=OutboxFactory(status=NotificationStatus.SENT))


def test_retrying_a_failed_notification_gives_it_a_new_attempt_budget():
    notification = OutboxFactory(status=NotificationStatus.FAILED, attempts=8, last_error="boom")
    message_id = notification.message_id
    services.notification_retry(notification=notification)
    assert notification.status == NotificationStatus.PENDING
    assert notification.retry_base == 8
    assert notification.message_id == message_id


def test_cancel_only_applies_to_pending_notifications():
    pending = OutboxFactory()
    services.notification_cancel(notification=pending)
    assert pending.status == NotificationStatus.CANCELLED
    with pytest.raises(IllegalTransition):
        services.notification_cancel(notification=OutboxFactory(status=NotificationStatus.SENT))


def test_replay_requeues_failed_notifications_of_a_channel_and_counts_them():
    channel = ChannelFactory()
    OutboxFactory.create_batch(3, channel=channel, status=NotificationStatus.FAILED)
    OutboxFactory(channel=channel, status=NotificationStatus.SENT)
    OutboxFactory(status=NotificationStatus.FAILED)  # another channel
    assert services.notification_replay(channel_id=channel.pk) == 3
    assert NotificationOutbox.objects.filter(channel=channel, status=NotificationStatus.PENDING).count() == 3


def test_pause_and_resume_a_channel():
    channel = ChannelFactory(consecutive_failures=25)
    services.channel_pause(channel=channel, reason="noisy")
    assert channel.paused and channel.disabled_reason == "noisy"
    services.channel_resume(channel=channel)
    assert not channel.paused and channel.consecutive_failures == 0


def test_rotating_again_within_the_grace_replaces_the_previous_secret(notify_config):
    notify_config(SECRET_GRACE_HOURS=24)
    channel = WebhookChannelFactory()
    first = channel.secret
    services.channel_rotate_secret(channel=channel)
    second = channel.secret
    assert (channel.previous_secret, channel.previous_secret_expires_at is not None) == (first, True)
    services.channel_rotate_secret(channel=channel)
    channel.refresh_from_db()
    assert channel.previous_secret == second and first not in (channel.secret, channel.previous_secret)


def test_with_no_grace_the_old_secret_stops_signing_at_once(notify_config):
    from django.utils import timezone

    from notifications.delivery.leases import channel_snapshot

    notify_config(SECRET_GRACE_HOURS=0)
    channel = WebhookChannelFactory(previous_secret="whsec_old", previous_secret_expires_at=None)
    services.channel_rotate_secret(channel=channel)
    channel.refresh_from_db()
    assert (channel.previous_secret, channel.previous_secret_expires_at) == ("", None)
    assert channel_snapshot(channel).signing_secrets(timezone.now()) == [channel.secret]
