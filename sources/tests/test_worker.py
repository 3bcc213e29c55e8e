"""The relay through a real Celery worker, whose source comes from its environment as in production."""

from __future__ import annotations

import pytest

from notifications.models import NotificationOutbox, NotificationStatus
from notifications.tests.factories import ChannelFactory
from opsconsole.testing import celery_worker, wait_for
from sources.tasks import relay_outboxes
from sources.tests.test_relay import insert, install, outbox_rows


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_turns_a_committed_outbox_row_into_a_delivered_notification(shop, shop_path, tmp_path):
    install()
    ChannelFactory(name="orders")
    insert(shop, "orders", "Shipped via the worker")
    env = {"OPSCONSOLE_SOURCE_SHOP_URL": f"sqlite:///{shop_path}", "OPSCONSOLE_VAR_DIR": str(tmp_path / "worker-var")}
    with celery_worker(**env):
        relay_outboxes.delay()
        wait_for(
            lambda: NotificationOutbox.objects.filter(status=NotificationStatus.SENT).exists(),
            timeout=60,
            message="the relayed notification delivered by the worker",
        )
    notification = NotificationOutbox.objects.get()
    assert (notification.subject, notification.idempotency_key) == ("Shipped via the worker", "shop:1")
    assert outbox_rows(shop) == []
