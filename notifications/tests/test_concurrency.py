"""Many dispatchers at once on PostgreSQL: SKIP LOCKED claims hand every notification to exactly one."""

import threading

import pytest
from django.db import connection

from notifications.delivery.dispatcher import notification_dispatch_due
from notifications.models import NotificationOutbox, NotificationStatus
from notifications.tests.factories import WebhookChannelFactory
from opsconsole.testing import require_postgres

PER_DISPATCHER = 2_000
DISPATCHERS = 4


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_four_concurrent_dispatchers_deliver_each_of_8000_notifications_exactly_once(sink):
    require_postgres()
    channel = WebhookChannelFactory(target=sink.url)
    sink.secret = channel.secret
    total = PER_DISPATCHER * DISPATCHERS
    NotificationOutbox.objects.bulk_create(
        (NotificationOutbox(channel=channel, body=f"notification {i}") for i in range(total)), batch_size=1000
    )
    errors = []

    def dispatcher():
        try:
            notification_dispatch_due(concurrency=8, batch_size=50)
        except Exception as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(DISPATCHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert errors == []
    ids = [r.message_id for r in sink.received]
    assert len(ids) == total
    assert len(set(ids)) == total, "a notification was delivered twice"
    assert sink.overlaps == [], "a notification was in flight twice at once"
    assert all(r.verified for r in sink.received)
    assert NotificationOutbox.objects.filter(status=NotificationStatus.SENT, attempts=1).count() == total
