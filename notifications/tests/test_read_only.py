"""Read-only mode stops every write staff, the API and commands make; the engine's own writes go on."""

import pytest

from maintenance.exceptions import WritesBlocked
from maintenance.services import maintenance_set_mode
from notifications import services
from notifications.delivery import leases, results
from notifications.models import NotificationChannel, NotificationOutbox, NotificationStatus
from notifications.tests.factories import ChannelFactory, OutboxFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db

GUARDED = [
    "channel_create",
    "channel_update",
    "channel_delete",
    "channel_rotate_secret",
    "channel_pause",
    "channel_resume",
    "channel_send_test",
    "notification_enqueue",
    "notification_retry",
    "notification_cancel",
    "notification_replay",
]


@pytest.mark.parametrize("name", GUARDED)
def test_every_writing_service_is_guarded(name):
    assert getattr(getattr(services, name), "writes_guarded", False)


@pytest.mark.parametrize(
    ("name", "engine_write"),
    [
        ("outbox_claim_due_batch", leases.outbox_claim_due_batch),
        ("outbox_release", leases.outbox_release),
        ("outbox_renew_leases", leases.outbox_renew_leases),
        ("outbox_record_results", results.outbox_record_results),
    ],
)
def test_the_engines_writes_are_not_guarded(name, engine_write):
    # The dispatcher pauses itself outside normal mode; a stopping worker must still record what it delivered.
    assert not getattr(engine_write, "writes_guarded", False), name


@pytest.mark.parametrize("mode", ["read_only", "maintenance"])
def test_creating_a_channel_or_a_notification_is_refused_and_changes_nothing(mode):
    channel = ChannelFactory()
    maintenance_set_mode(mode=mode, reason="migrating")
    with pytest.raises(WritesBlocked):
        services.channel_create(name="new", channel_type="log", target="ops")
    with pytest.raises(WritesBlocked):
        services.notification_enqueue(channel_id=channel.pk, body="hello")
    with pytest.raises(WritesBlocked):
        services.channel_send_test(channel=channel)
    assert list(NotificationChannel.objects.values_list("name", flat=True)) == [channel.name]
    assert not NotificationOutbox.objects.exists()


def test_state_changes_are_refused_in_read_only_and_change_nothing():
    hook = WebhookChannelFactory()
    pending = OutboxFactory(channel=hook)
    failed = OutboxFactory(channel=hook, status=NotificationStatus.FAILED)
    secret = hook.secret
    maintenance_set_mode(mode="read_only", reason="migrating")
    for call in (
        lambda: services.notification_cancel(notification=pending),
        lambda: services.notification_retry(notification=failed),
        lambda: services.notification_replay(channel_id=hook.pk),
        lambda: services.channel_rotate_secret(channel=hook),
        lambda: services.channel_pause(channel=hook),
        lambda: services.channel_update(channel=hook, description="changed"),
    ):
        with pytest.raises(WritesBlocked):
            call()
    hook.refresh_from_db()
    assert (hook.secret, hook.paused, hook.description) == (secret, False, None)
    assert NotificationOutbox.objects.get(pk=pending.pk).status == NotificationStatus.PENDING
    assert NotificationOutbox.objects.get(pk=failed.pk).status == NotificationStatus.FAILED
