"""The notifications families of /metrics, read back through Prometheus' parser after real deliveries."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.delivery.dispatcher import notification_dispatch_due
from notifications.tests.factories import ChannelFactory, OutboxFactory, WebhookChannelFactory
from opsconsole.metrics.testing import sample, scrape

pytestmark = pytest.mark.django_db


def deliveries(client, outcome, channel_type="webhook"):
    return sample(scrape(client), "opsconsole_deliveries_total", channel_type=channel_type, outcome=outcome)


def test_the_sent_counter_grows_by_exactly_the_number_delivered(anon_api, sink, hook):
    before = scrape(anon_api)
    OutboxFactory.create_batch(7, channel=hook)
    summary = notification_dispatch_due()
    after = scrape(anon_api)

    assert summary.sent == 7 and len(sink.received) == 7
    grew = {
        outcome: sample(after, "opsconsole_deliveries_total", channel_type="webhook", outcome=outcome)
        - sample(before, "opsconsole_deliveries_total", channel_type="webhook", outcome=outcome)
        for outcome in ("sent", "retry", "failed")
    }
    assert grew == {"sent": 7, "retry": 0, "failed": 0}
    assert sample(after, "opsconsole_delivery_duration_seconds_count", channel_type="webhook") == 7
    assert sample(after, "opsconsole_delivery_duration_seconds_bucket", channel_type="webhook", le="+Inf") == 7
    assert sample(after, "opsconsole_delivery_duration_seconds_sum", channel_type="webhook") >= 0
    assert sample(after, "opsconsole_outbox_messages", status="sent") == 7
    assert sample(after, "opsconsole_outbox_messages", status="pending") == 0


def test_retries_and_failures_are_counted_by_their_final_outcome(anon_api, sink, hook):
    sink.statuses = [503]
    given_up = WebhookChannelFactory(target=sink.url, max_attempts=1)
    sink.secret = None
    OutboxFactory.create_batch(2, channel=hook)
    OutboxFactory(channel=given_up)
    notification_dispatch_due()

    assert deliveries(anon_api, "retry") == 2
    assert deliveries(anon_api, "failed") == 1  # a 503 on the last allowed attempt gives up
    assert deliveries(anon_api, "sent") == 0


def test_each_channel_type_has_its_own_series(anon_api):
    OutboxFactory.create_batch(3, channel=ChannelFactory())  # the log channel
    notification_dispatch_due()
    assert deliveries(anon_api, "sent", channel_type="log") == 3
    assert deliveries(anon_api, "sent", channel_type="webhook") == 0


def test_outbox_gauges_count_every_status_and_the_oldest_due(anon_api):
    channel = ChannelFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        OutboxFactory.create_batch(2, channel=channel)
        OutboxFactory(channel=channel, status="failed")
    with time_machine.travel(start + timedelta(seconds=120), tick=False):
        families = scrape(anon_api)
    assert sample(families, "opsconsole_outbox_oldest_due_seconds") == pytest.approx(120)
    assert sample(families, "opsconsole_outbox_messages", status="pending") == 2
    assert sample(families, "opsconsole_outbox_messages", status="failed") == 1
    assert sample(families, "opsconsole_outbox_messages", status="cancelled") == 0


def test_channel_states_are_active_paused_and_inactive(anon_api):
    ChannelFactory.create_batch(3)
    ChannelFactory(paused=True)
    ChannelFactory(active=False, paused=True)
    families = scrape(anon_api)
    states = {s: sample(families, "opsconsole_channels", state=s) for s in ("active", "paused", "inactive")}
    assert states == {"active": 3, "paused": 1, "inactive": 1}


def test_lost_deliveries_are_counted_as_attempts_without_a_duration(anon_api, hook, notify_config):
    from notifications.delivery.leases import outbox_claim_due_batch

    notify_config(LEASE_SECONDS=60)
    hook.max_attempts = 2
    hook.save()
    OutboxFactory(channel=hook)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        for _ in range(2):
            outbox_claim_due_batch(limit=10)  # claimed, then the worker dies
            traveller.shift(timedelta(seconds=61))
        assert outbox_claim_due_batch(limit=10) == []  # the second loss was the last attempt
    families = scrape(anon_api)
    assert sample(families, "opsconsole_deliveries_total", channel_type="webhook", outcome="retry") == 1
    assert sample(families, "opsconsole_deliveries_total", channel_type="webhook", outcome="failed") == 1
    assert sample(families, "opsconsole_delivery_duration_seconds_count", channel_type="webhook") == 0
