"""How a sweep ends: a stop request, a SystemExit, a database error; and lease renewal."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from notifications.delivery import dispatcher as dispatch
from notifications.delivery.dispatcher import notification_dispatch_due
from notifications.delivery.leases import outbox_claim_due_batch, outbox_renew_leases
from notifications.models import NotificationOutbox, NotificationStatus
from notifications.tests.factories import OutboxFactory
from opsconsole import shutdown

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_stop_flag():
    shutdown.reset()
    yield
    shutdown.reset()


def statuses() -> Counter:
    return Counter(NotificationOutbox.objects.values_list("status", flat=True))


def test_a_stop_request_ends_claiming_and_hands_back_every_claim_not_started(sink, hook):
    OutboxFactory.create_batch(30, channel=hook)
    sink.delay = 0.05
    seen = []

    def stop_after_a_few(request):
        seen.append(request)
        if len(seen) == 3:
            shutdown.request_stop()

    original = sink.handle
    sink.server.clear()
    sink.server.expect_request(sink.path).respond_with_handler(lambda r: (stop_after_a_few(r), original(r))[1])
    summary = notification_dispatch_due(concurrency=2, batch_size=4)
    counts = statuses()
    assert counts[NotificationStatus.SENDING] == 0  # nothing waits for a lease
    assert 3 <= counts[NotificationStatus.SENT] < 30  # the running ones finished, then it stopped
    assert counts[NotificationStatus.SENT] == summary.sent == len(sink.received)
    assert counts[NotificationStatus.PENDING] == 30 - summary.sent
    # Handed back untouched: no attempt counted for a delivery never made.
    assert not NotificationOutbox.objects.filter(status=NotificationStatus.PENDING, attempts__gt=0).exists()


def test_a_system_exit_mid_sweep_still_records_what_was_delivered(sink, hook, monkeypatch):
    OutboxFactory.create_batch(12, channel=hook)
    sink.delay = 0.02
    real_flush = dispatch._Sweep.flush
    calls = {"n": 0}

    def flush_then_die(self):
        real_flush(self)
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit(0)  # what billiard raises in a pool process on SIGTERM

    monkeypatch.setattr(dispatch._Sweep, "flush", flush_then_die)
    with pytest.raises(SystemExit):
        notification_dispatch_due(concurrency=2, batch_size=4)
    counts = statuses()
    assert counts[NotificationStatus.SENDING] == 0
    assert counts[NotificationStatus.SENT] == len(sink.received)  # every delivery made is on record
    assert counts[NotificationStatus.SENT] + counts[NotificationStatus.PENDING] == 12


@pytest.mark.django_db(transaction=True)  # the retry closes the connection, as after a real blip
def test_a_database_error_while_recording_is_retried_after_reconnecting(sink, hook, monkeypatch):
    OutboxFactory.create_batch(3, channel=hook)
    real_record = dispatch.outbox_record_results
    failures = {"left": 2}

    def flaky_record(*, results):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return real_record(results=results)

    monkeypatch.setattr(dispatch, "outbox_record_results", flaky_record)
    monkeypatch.setattr(dispatch, "DATABASE_RETRIES", (0.0, 0.0, 0.0))
    with pytest.raises(OperationalError):
        notification_dispatch_due(concurrency=1, batch_size=3)
    # The sweep itself failed (the task retries it), but what it delivered is recorded, and
    # what it had claimed without starting (timing decides how much) was handed back.
    counts = statuses()
    assert counts[NotificationStatus.SENT] == len(sink.received) >= 1
    assert counts[NotificationStatus.SENDING] == 0
    assert counts[NotificationStatus.SENT] + counts[NotificationStatus.PENDING] == 3


def test_renewing_a_lease_extends_it_and_keeps_rows_taken_by_someone_else_theirs(hook, notify_config):
    notify_config(LEASE_SECONDS=30)
    first, second = OutboxFactory(channel=hook), OutboxFactory(channel=hook)
    claims = outbox_claim_due_batch(limit=10)
    lease = claims[0].lease
    assert {c.lease for c in claims} == {lease}
    old_until = lease.until
    # Someone reclaimed `second` after the lease expired: it carries their token now.
    theirs = timezone.now() + timedelta(seconds=99)
    NotificationOutbox.objects.filter(pk=second.pk).update(locked_until=theirs)
    with time_machine.travel(timezone.now() + timedelta(seconds=10), tick=False):
        assert outbox_renew_leases(leases=[lease]) == 1
    # Ten seconds on, the new lease ends later than the old one (each carries up to 1 s of token).
    assert lease.until > old_until + timedelta(seconds=8) and claims[1].lease_until == lease.until
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.locked_until == lease.until
    assert second.locked_until == theirs


@pytest.mark.django_db(transaction=True)  # the sink's thread looks at the rows with its own connection
def test_a_long_delivery_keeps_its_row_leased_while_it_runs(sink, hook, notify_config):
    notify_config(LEASE_SECONDS=0.6)
    notification = OutboxFactory(channel=hook)
    taken_meanwhile = []

    def slow_answer(request):
        time.sleep(1.2)  # twice the lease: without renewal another dispatcher could take the row now
        taken_meanwhile.append(len(outbox_claim_due_batch(limit=10)))
        return original(request)

    original = sink.handle
    sink.server.clear()
    sink.server.expect_request(sink.path).respond_with_handler(slow_answer)
    notification_dispatch_due(concurrency=1, batch_size=1)
    notification.refresh_from_db()
    assert taken_meanwhile == [0]
    assert notification.status == NotificationStatus.SENT and notification.attempts == 1
    assert len(sink.received) == 1


def test_a_delivery_taken_off_the_queue_by_an_interrupted_collect_is_recorded_not_sent_again(sink, hook, monkeypatch):
    # A signal can land between taking a finished delivery off the queue and writing it down.
    OutboxFactory.create_batch(12, channel=hook)
    sink.delay = 0.02
    real_collect = dispatch._Sweep.collect
    calls = {"n": 0}

    def lose_one_then_die(self, *, timeout):
        calls["n"] += 1
        if calls["n"] == 3:
            self.done.get(timeout=5)  # taken off the queue, never recorded
            raise SystemExit(0)
        real_collect(self, timeout=timeout)

    monkeypatch.setattr(dispatch._Sweep, "collect", lose_one_then_die)
    began = time.monotonic()
    with pytest.raises(SystemExit):
        notification_dispatch_due(concurrency=2, batch_size=4)
    assert time.monotonic() - began < 3  # not held for the stop timeout waiting on the queue
    assert statuses()[NotificationStatus.SENT] == len(sink.received)  # the lost one is on record
    monkeypatch.setattr(dispatch._Sweep, "collect", real_collect)
    notification_dispatch_due(concurrency=2, batch_size=4)
    assert statuses()[NotificationStatus.SENT] == 12
    assert max(Counter(request.message_id for request in sink.received).values()) == 1


def test_sigterm_during_a_sweep_stops_it_cleanly_then_takes_effect(sink, hook):
    import os
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be installed from the main thread")
    OutboxFactory.create_batch(30, channel=hook)
    sink.delay = 0.05
    seen = []

    def terminate_after_a_few(request):
        seen.append(request)
        if len(seen) == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    def exit_like_billiard(signum, _frame):
        raise SystemExit(-(256 - signum))

    original = sink.handle
    sink.server.clear()
    sink.server.expect_request(sink.path).respond_with_handler(lambda r: (terminate_after_a_few(r), original(r))[1])
    previous = signal.signal(signal.SIGTERM, exit_like_billiard)
    try:
        with pytest.raises(SystemExit):
            notification_dispatch_due(concurrency=2, batch_size=4)
        assert signal.getsignal(signal.SIGTERM) is exit_like_billiard  # the handler is back
    finally:
        signal.signal(signal.SIGTERM, previous)
    counts = statuses()
    assert shutdown.stopping()
    assert counts[NotificationStatus.SENDING] == 0
    assert 3 <= counts[NotificationStatus.SENT] < 30
    assert counts[NotificationStatus.SENT] == len(sink.received)
