from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from maintenance.services import maintenance_set_mode
from notifications.models import NotificationOutbox, NotificationStatus
from notifications.tests.factories import ChannelFactory, OutboxFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_dispatch_once_delivers_due_notifications_and_says_so(sink):
    OutboxFactory.create_batch(3, channel=WebhookChannelFactory(target=sink.url))
    output = run("dispatch_notifications", "--once")
    assert "sent 3" in output
    assert len(sink.received) == 3
    assert run("dispatch_notifications", "--once").strip() == "Nothing due."


def test_dispatch_once_pauses_in_maintenance(sink):
    notification = OutboxFactory(channel=WebhookChannelFactory(target=sink.url))
    maintenance_set_mode(mode="maintenance", reason="test")
    assert "paused" in run("dispatch_notifications", "--once")
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING


def test_send_test_notification_by_name_delivers_it(sink):
    channel = WebhookChannelFactory(name="ops-hook", target=sink.url)
    output = run("send_test_notification", "ops-hook")
    assert "Sent" in output
    assert NotificationOutbox.objects.get(channel=channel).status == NotificationStatus.SENT
    assert len(sink.received) == 1


def test_send_test_notification_by_id():
    channel = ChannelFactory()
    assert "Sent" in run("send_test_notification", str(channel.pk))


def test_send_test_notification_fails_loudly_when_the_endpoint_refuses(sink):
    sink.statuses = [400]
    WebhookChannelFactory(name="broken", target=sink.url)
    with pytest.raises(CommandError, match="failed: endpoint answered 400"):
        run("send_test_notification", "broken")


def test_send_test_notification_to_an_unknown_channel_is_an_error():
    with pytest.raises(CommandError, match="No channel"):
        run("send_test_notification", "nope")
