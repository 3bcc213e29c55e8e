"""Leases against a real HTTP sink: expired leases come back, stale holders record nothing, lost deliveries count."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.channels import DeliveryContext
from notifications.delivery.dispatcher import attempt_delivery, notification_dispatch_due
from notifications.delivery.leases import outbox_claim_due_batch, outbox_release
from notifications.delivery.results import outbox_record_results
from notifications.models import AttemptOutcome, NotificationStatus
from notifications.tests.factories import OutboxFactory

pytestmark = pytest.mark.django_db


def reload(row):
    row.refresh_from_db()
    return row


def test_an_expired_lease_is_reclaimed_and_delivered_with_the_same_id(sink, hook, notify_config):
    notify_config(LEASE_SECONDS=60)
    notification = OutboxFactory(channel=hook)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        claims = outbox_claim_due_batch(limit=10)  # a worker claims it, then dies
        assert [c.message.outbox_id for c in claims] == [notification.pk]
        assert reload(notification).status == NotificationStatus.SENDING
        notification_dispatch_due()
        assert sink.received == []  # the lease still holds
        traveller.shift(timedelta(seconds=61))
        notification_dispatch_due()
    assert [r.message_id for r in sink.received] == [notification.message_id]
    assert reload(notification).status == NotificationStatus.SENT


def deliver_claims(claims):
    with DeliveryContext() as context:
        return [attempt_delivery(claim, context) for claim in claims]


def test_a_stale_lease_holders_late_result_changes_nothing_and_the_new_holders_result_lands(
    sink, hook, notify_config, caplog
):
    notify_config(LEASE_SECONDS=60)
    sink.statuses = [410, 204]  # worker A hears 410 Gone, worker B gets through
    notification = OutboxFactory(channel=hook)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        claims_a = outbox_claim_due_batch(limit=10)
        results_a = deliver_claims(claims_a)  # A delivers, then stalls past its lease
        traveller.shift(timedelta(seconds=61))
        claims_b = outbox_claim_due_batch(limit=10)
        assert [c.message.outbox_id for c in claims_b] == [notification.pk]
        with caplog.at_level("WARNING", logger="notifications.services"):
            outbox_record_results(results=results_a)
        assert "stale result" in caplog.text
        reload(notification)
        # A's attempt counts as lost (attempt 1, logged when B reclaimed); its 410 changes nothing.
        assert (notification.status, notification.attempts) == (NotificationStatus.SENDING, 1)
        assert notification.locked_until == claims_b[0].lease_until
        assert list(notification.attempt_log.values_list("outcome", "http_status")) == [(AttemptOutcome.RETRY, None)]
        reload(hook)
        assert hook.active and hook.consecutive_failures == 0 and hook.last_failure_at is None
        outbox_record_results(results=deliver_claims(claims_b))
    reload(notification)
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 2)
    assert list(notification.attempt_log.order_by("number").values_list("number", "outcome", "http_status")) == [
        (1, AttemptOutcome.RETRY, None),
        (2, AttemptOutcome.SENT, 204),
    ]
    assert reload(hook).active and hook.last_success_at is not None


def test_a_late_batch_of_sent_results_finishes_only_the_rows_still_under_its_lease(sink, hook, notify_config):
    notify_config(LEASE_SECONDS=60)
    sink.statuses = [204, 204, 503]
    kept, reclaimed = OutboxFactory(channel=hook), OutboxFactory(channel=hook)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        claims_a = outbox_claim_due_batch(limit=10)
        results_a = deliver_claims(claims_a)
        traveller.shift(timedelta(seconds=61))
        claims_b = outbox_claim_due_batch(limit=10, outbox_ids=[reclaimed.pk])
        # B cannot hand back or finish A's other row, and A cannot hand back B's.
        assert outbox_release(claims=[c for c in claims_a if c.message.outbox_id == reclaimed.pk]) == 0
        outbox_record_results(results=results_a)
        assert reload(kept).status == NotificationStatus.SENT
        assert reload(reclaimed).status == NotificationStatus.SENDING
        outbox_record_results(results=deliver_claims(claims_b))
    assert (reload(reclaimed).status, reclaimed.attempts) == (NotificationStatus.PENDING, 2)  # lost + 503
    assert list(reclaimed.attempt_log.order_by("number").values_list("outcome", "http_status")) == [
        (AttemptOutcome.RETRY, None),
        (AttemptOutcome.RETRY, 503),
    ]
    assert list(kept.attempt_log.values_list("outcome", flat=True)) == [AttemptOutcome.SENT]
    assert reload(hook).consecutive_failures == 1


def test_a_message_whose_deliveries_are_always_lost_fails_after_max_attempts(hook, notify_config):
    """A worker that dies (or hangs past its lease) on a message every time must not loop forever."""
    notify_config(LEASE_SECONDS=60)
    hook.max_attempts = 3
    hook.save()
    notification = OutboxFactory(channel=hook)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        for expected_attempts in (0, 1, 2):
            claims = outbox_claim_due_batch(limit=10)  # claimed, then the worker dies
            assert [c.message.outbox_id for c in claims] == [notification.pk]
            assert reload(notification).attempts == expected_attempts
            traveller.shift(timedelta(seconds=61))
        assert outbox_claim_due_batch(limit=10) == []  # the third loss is the last attempt
    reload(notification)
    assert notification.status == NotificationStatus.FAILED and notification.attempts == 3
    assert "gave up after 3 attempts" in notification.last_error
    assert list(notification.attempt_log.order_by("number").values_list("number", "outcome")) == [
        (1, AttemptOutcome.RETRY),
        (2, AttemptOutcome.RETRY),
        (3, AttemptOutcome.FAILED),
    ]


def test_a_claim_carries_each_rows_own_values_in_id_order_whether_fresh_or_reclaimed(hook, notify_config):
    # On PostgreSQL the claim picks, leases and reads in one statement: what it hands the
    # delivery threads must be exactly what the rows hold (payload decoded, created_at aware).
    notify_config(LEASE_SECONDS=60)
    rows = [
        OutboxFactory(channel=hook, payload={"n": 1, "text": 'naïve "quoted" \\ line\nbreak'}),
        OutboxFactory(channel=hook, payload=None, subject=""),
        OutboxFactory(channel=hook, payload={"nested": {"list": [1, 2.5, None, True]}}),
    ]
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        first = outbox_claim_due_batch(limit=2)  # rows 0 and 1, then their worker dies
        assert [c.message.outbox_id for c in first] == [rows[0].pk, rows[1].pk]
        traveller.shift(timedelta(seconds=61))
        again = outbox_claim_due_batch(limit=10)  # two reclaimed rows and a fresh one
    assert [c.message.outbox_id for c in again] == [row.pk for row in rows]
    for claim, row in zip(again, rows, strict=True):
        reload(row)
        assert claim.message.payload == row.payload
        assert claim.message.created_at == row.created_at
        assert claim.message.subject == row.subject
        assert claim.message.message_id == str(row.message_id)
        assert claim.message.channel.id == hook.pk
        assert claim.lease_until == row.locked_until
    assert [c.message.attempt_number for c in again] == [2, 2, 1]  # the lost first attempts counted
    for claim, row in zip(first, rows, strict=False):
        assert claim.message.payload == row.payload
        assert claim.message.created_at == row.created_at
