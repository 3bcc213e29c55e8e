import pytest

from notifications.models import NotificationStatus
from notifications.tasks import deliver, dispatch_due
from notifications.tests.factories import OutboxFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db


def test_the_deliver_task_is_safe_to_run_twice(sink):
    notification = OutboxFactory(channel=WebhookChannelFactory(target=sink.url))
    assert "sent 1" in deliver.apply(args=[notification.pk]).get()
    assert deliver.apply(args=[notification.pk]).get() is None
    assert len(sink.received) == 1


def test_the_deliver_task_ignores_a_notification_that_no_longer_exists():
    assert deliver.apply(args=[987654]).get() is None


def test_the_sweep_task_reports_what_it_did(sink):
    notification = OutboxFactory(channel=WebhookChannelFactory(target=sink.url))
    assert "sent 1" in dispatch_due.apply().get()
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
