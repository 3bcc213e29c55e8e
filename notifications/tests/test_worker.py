"""End to end through a real Celery worker on the configured broker."""

import pytest

from notifications.models import NotificationOutbox, NotificationStatus
from notifications.services import notification_enqueue
from notifications.tasks import dispatch_due
from notifications.tests.factories import WebhookChannelFactory
from opsconsole.testing import celery_worker, wait_for


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_enqueued_notifications_end_to_end(sink):
    channel = WebhookChannelFactory(target=sink.url)
    sink.secret = channel.secret
    with celery_worker(OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE="1"):
        notification, _ = notification_enqueue(channel_id=channel.pk, subject="hello", body="from the worker")
        # Rows that reached the outbox without a task (e.g. broker down at commit) go by the sweep.
        swept = NotificationOutbox.objects.create(channel=channel, body="found by the sweep")
        dispatch_due.delay()
        wait_for(
            lambda: NotificationOutbox.objects.filter(status=NotificationStatus.SENT).count() == 2,
            timeout=60,
            message="both notifications sent by the worker",
        )
    assert {r.message_id for r in sink.received} == {notification.message_id, swept.message_id}
    assert all(r.verified for r in sink.received)
