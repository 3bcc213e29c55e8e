"""The delivery engine against a real HTTP sink: retries, backoff, leases, health, limits, maintenance."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from maintenance.services import maintenance_set_mode
from notifications.delivery.dispatcher import notification_deliver, notification_dispatch_due
from notifications.delivery.leases import outbox_claim_due_batch
from notifications.delivery.policy import retry_delay
from notifications.models import AttemptOutcome, NotificationChannel, NotificationOutbox, NotificationStatus
from notifications.tests.conftest import make_sink
from notifications.tests.factories import OutboxFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db


def reload(row):
    row.refresh_from_db()
    return row


def test_a_notification_is_delivered_signed_and_marked_sent(sink, hook):
    notification = OutboxFactory(channel=hook)
    summary = notification_dispatch_due()
    assert summary.sent == 1
    reload(notification)
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 1 and notification.sent_at is not None
    assert sink.received[0].verified is True
    assert sink.received[0].message_id == notification.message_id
    attempt = notification.attempt_log.get()
    assert (attempt.number, attempt.outcome, attempt.http_status) == (1, AttemptOutcome.SENT, 204)


def test_flaky_endpoint_503_503_204_is_sent_after_three_attempts_with_one_webhook_id(sink, hook, notify_config):
    notify_config(BACKOFF_BASE=5.0)
    sink.statuses = [503, 503, 204]
    notification = OutboxFactory(channel=hook)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        notification_dispatch_due()
        reload(notification)
        assert notification.status == NotificationStatus.PENDING
        assert notification.next_attempt_at >= timezone.now() + timedelta(seconds=2)  # at least half the base
        notification_dispatch_due()  # not due yet: nothing is sent
        assert len(sink.received) == 1
        traveller.shift(timedelta(seconds=6))
        notification_dispatch_due()
        assert len(sink.received) == 2
        traveller.shift(timedelta(seconds=11))
        notification_dispatch_due()
    reload(notification)
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 3
    assert {r.message_id for r in sink.received} == {notification.message_id}
    assert all(r.verified for r in sink.received)
    log = list(notification.attempt_log.values_list("number", "outcome", "http_status"))
    assert log == [(1, "retry", 503), (2, "retry", 503), (3, "sent", 204)]


def test_a_400_fails_at_once_after_one_attempt(sink, hook):
    sink.statuses = [400]
    notification = OutboxFactory(channel=hook)
    notification_dispatch_due()
    reload(notification)
    assert notification.status == NotificationStatus.FAILED
    assert notification.attempts == 1
    assert "400" in notification.last_error
    assert reload(hook).active


def test_a_410_disables_the_channel(sink, hook):
    sink.statuses = [410]
    notification = OutboxFactory(channel=hook)
    notification_dispatch_due()
    assert reload(notification).status == NotificationStatus.FAILED
    reload(hook)
    assert not hook.active
    assert "410" in hook.disabled_reason


def test_attempts_are_given_up_after_max_attempts(sink, notify_config):
    notify_config(BACKOFF_BASE=1.0)
    channel = WebhookChannelFactory(target=sink.url, max_attempts=2)
    sink.statuses = [500]
    notification = OutboxFactory(channel=channel)
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        notification_dispatch_due()
        traveller.shift(timedelta(seconds=5))
        notification_dispatch_due()
        traveller.shift(timedelta(seconds=60))
        notification_dispatch_due()
    reload(notification)
    assert notification.status == NotificationStatus.FAILED
    assert notification.attempts == 2
    assert "gave up after 2 attempts" in notification.last_error
    assert len(sink.received) == 2


def test_retry_after_is_honoured(sink, hook):
    sink.statuses = [429]
    sink.headers = {"Retry-After": "300"}
    notification = OutboxFactory(channel=hook)
    before = timezone.now()
    notification_dispatch_due()
    assert reload(notification).next_attempt_at >= before + timedelta(seconds=299)


def test_the_attempt_log_keeps_the_first_kilobyte_of_the_response(threaded_httpserver, allow_private):
    threaded_httpserver.expect_request("/big").respond_with_data("x" * 5000, status=422)
    channel = WebhookChannelFactory(target=threaded_httpserver.url_for("/big"))
    notification = OutboxFactory(channel=channel)
    notification_dispatch_due()
    attempt = notification.attempt_log.get()
    assert len(attempt.response_excerpt) == 1024
    assert attempt.http_status == 422 and attempt.outcome == AttemptOutcome.FAILED
    assert attempt.started_at is not None and attempt.duration_ms >= 0


def test_backoff_grows_with_full_jitter_within_its_bounds(notify_config):
    notify_config(BACKOFF_BASE=5.0, BACKOFF_MAX=60.0)
    first = [retry_delay(attempt_in_round=1) for _ in range(200)]
    assert all(2.5 <= d <= 5.0 for d in first) and len(set(first)) > 100  # jittered, never immediate
    third = [retry_delay(attempt_in_round=3) for _ in range(200)]
    assert all(2.5 <= d <= 20.0 for d in third) and len(set(third)) > 100
    assert min(third) < 5.0 and max(third) > 15.0  # drawn over the whole range, not from the base up
    late = [retry_delay(attempt_in_round=12) for _ in range(200)]
    assert all(2.5 <= d <= 60.0 for d in late) and max(late) > 50.0
    assert retry_delay(attempt_in_round=1, retry_after=120) == 120


def test_delivering_twice_sends_once(sink, hook):
    notification = OutboxFactory(channel=hook)
    assert notification_deliver(outbox_id=notification.pk) == AttemptOutcome.SENT
    assert notification_deliver(outbox_id=notification.pk) is None
    assert len(sink.received) == 1


def test_a_channel_is_paused_after_consecutive_failures_and_resumes(sink, notify_config):
    from notifications.services import channel_resume

    notify_config(PAUSE_AFTER_FAILURES=3)
    channel = WebhookChannelFactory(target=sink.url, max_attempts=1)
    sink.statuses = [500, 500, 500, 204]
    OutboxFactory.create_batch(3, channel=channel)
    notification_dispatch_due(concurrency=1)
    reload(channel)
    assert channel.paused and channel.consecutive_failures == 3
    assert "3 consecutive" in channel.disabled_reason
    waiting = OutboxFactory(channel=channel)
    notification_dispatch_due()
    assert reload(waiting).status == NotificationStatus.PENDING
    channel_resume(channel=channel)
    notification_dispatch_due()
    assert reload(waiting).status == NotificationStatus.SENT
    reload(channel)
    assert channel.consecutive_failures == 0 and channel.last_success_at is not None


def test_the_per_channel_rate_limit_holds_the_rest_for_the_next_minute(sink):
    channel = WebhookChannelFactory(target=sink.url, rate_limit_per_minute=2)
    OutboxFactory.create_batch(5, channel=channel)
    # Early in a minute, so the window cannot roll over between the five deliveries.
    with time_machine.travel(timezone.now().replace(second=5), tick=True):
        summary = notification_dispatch_due()
    assert (summary.sent, summary.rate_limited) == (2, 3)
    assert len(sink.received) == 2
    held = NotificationOutbox.objects.filter(status=NotificationStatus.PENDING)
    assert held.count() == 3
    assert all(row.next_attempt_at > timezone.now() for row in held)
    assert all(row.attempts == 0 for row in held)


def test_dispatch_pauses_in_read_only_mode_and_resumes_after(sink, hook):
    notification = OutboxFactory(channel=hook)
    maintenance_set_mode(mode="read_only", reason="test")
    summary = notification_dispatch_due()
    assert summary.paused_for_maintenance
    assert notification_deliver(outbox_id=notification.pk) is None
    assert reload(notification).status == NotificationStatus.PENDING
    assert sink.received == []
    maintenance_set_mode(mode="normal", reason="test over")
    notification_dispatch_due()
    assert reload(notification).status == NotificationStatus.SENT


def test_a_private_target_is_refused_again_at_delivery_time(sink, hook, settings):
    notification = OutboxFactory(channel=hook)
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = False
    notification_dispatch_due()
    reload(notification)
    assert notification.status == NotificationStatus.FAILED
    assert "refused" in notification.last_error
    assert sink.received == []


def test_a_slow_endpoint_does_not_stall_the_others(threaded_httpserver, allow_private, notify_config):
    notify_config(DELIVERY_CONCURRENCY=4)
    slow = make_sink(threaded_httpserver, "/slow", delay=3.0)
    fast = make_sink(threaded_httpserver, "/fast")
    OutboxFactory(channel=WebhookChannelFactory(target=slow.url))
    OutboxFactory.create_batch(20, channel=WebhookChannelFactory(target=fast.url))
    summary = notification_dispatch_due()
    assert summary.sent == 21
    slow_answered_at = slow.received[0].at + 3.0
    assert all(r.at < slow_answered_at for r in fast.received)


def test_paused_and_inactive_channels_are_not_dispatched(sink):
    paused = OutboxFactory(channel=WebhookChannelFactory(target=sink.url, paused=True))
    inactive = OutboxFactory(channel=WebhookChannelFactory(target=sink.url, active=False))
    notification_dispatch_due()
    assert reload(paused).status == NotificationStatus.PENDING
    assert reload(inactive).status == NotificationStatus.PENDING
    assert sink.received == []


def test_email_notifications_reach_the_smtp_server(smtp_server):
    from notifications.tests.factories import ChannelFactory

    channel = ChannelFactory(channel_type="email", target="oncall@example.com")
    OutboxFactory.create_batch(5, channel=channel)
    assert notification_dispatch_due().sent == 5
    assert len(smtp_server.envelopes) == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_deliver_each_notification_once(sink):
    from django.db import connection

    channel = WebhookChannelFactory(target=sink.url)
    NotificationOutbox.objects.bulk_create(NotificationOutbox(channel=channel, body=f"n{i}") for i in range(200))

    def run():
        try:
            notification_dispatch_due(concurrency=4, batch_size=10)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [r.message_id for r in sink.received]
    assert len(ids) == 200 and len(set(ids)) == 200
    assert sink.overlaps == []
    assert NotificationOutbox.objects.filter(status=NotificationStatus.SENT).count() == 200
    assert NotificationChannel.objects.get(pk=channel.pk).consecutive_failures == 0


def test_the_webhook_secret_never_reaches_the_log(sink, hook, caplog):
    sink.statuses = [500, 204]
    OutboxFactory(channel=hook)
    with caplog.at_level("DEBUG"):
        notification_dispatch_due()
    assert len(sink.received) == 1
    assert hook.secret not in caplog.text
    assert hook.secret.removeprefix("whsec_") not in caplog.text


def test_the_beat_sweep_and_delivery_tasks_are_registered_under_their_fixed_names(settings):
    from opsconsole.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    assert settings.CELERY_BEAT_SCHEDULE["notifications-dispatch-due"]["task"] == "notifications.tasks.dispatch_due"
    assert {"notifications.tasks.dispatch_due", "notifications.tasks.deliver"} <= set(app.tasks)
    assert app.tasks["notifications.tasks.deliver"].acks_late


def test_the_sweep_never_holds_more_undelivered_leases_than_its_threads_plus_one_batch(sink, hook, monkeypatch):
    OutboxFactory.create_batch(40, channel=hook)
    sink.delay = 0.01
    claimed = 0
    not_yet_at_the_sink = []

    def counting_claim(**kwargs):
        nonlocal claimed
        claims = outbox_claim_due_batch(**kwargs)
        claimed += len(claims)
        not_yet_at_the_sink.append(claimed - len(sink.received))
        return claims

    monkeypatch.setattr("notifications.delivery.dispatcher.outbox_claim_due_batch", counting_claim)
    summary = notification_dispatch_due(concurrency=2, batch_size=4)
    assert summary.sent == 40
    assert max(not_yet_at_the_sink) <= 2 + 4
    assert len(not_yet_at_the_sink) > 40 // 6  # topped up as deliveries finish, not claimed all at once


def test_a_sweep_claiming_one_row_at_a_time_delivers_every_row(sink, hook):
    OutboxFactory.create_batch(3, channel=hook)
    sink.delay = 0.1  # slower than the sweep's wait for a result: it claims again with deliveries in flight
    summary = notification_dispatch_due(concurrency=1, batch_size=1)
    assert summary.sent == 3
    assert not NotificationOutbox.objects.exclude(status=NotificationStatus.SENT).exists()


def test_the_rate_limit_count_is_exact_under_concurrent_takes(monkeypatch):
    """Deliveries run in a thread pool; on the file cache a lost update would let extra ones through."""
    import threading

    from notifications import ratelimit
    from notifications.ratelimit import rate_limit_take

    monkeypatch.setattr(ratelimit, "_window", lambda: 1)  # one window throughout

    allowed = []
    start = threading.Barrier(8)

    def take_many():
        start.wait()
        allowed.extend(ok for _ in range(40) if (ok := rate_limit_take(channel_id=7, per_minute=100)))

    threads = [threading.Thread(target=take_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 100  # of 320 takes at once


@pytest.mark.django_db(transaction=True)
def test_a_notification_due_while_a_slow_one_is_in_flight_goes_out_at_once(threaded_httpserver, allow_private):
    """One slow endpoint holds one thread: the sweep keeps claiming for the free ones."""
    import threading

    from django.db import connection

    from notifications.tests.conftest import make_sink

    slow = make_sink(threaded_httpserver, "/slow", delay=2.0)
    fast = make_sink(threaded_httpserver, "/fast")
    OutboxFactory(channel=WebhookChannelFactory(target=slow.url))
    results = []

    def sweep():
        try:
            results.append(notification_dispatch_due(max_seconds=5))
        finally:
            connection.close()

    started = time.monotonic()
    worker = threading.Thread(target=sweep)
    worker.start()
    deadline = time.monotonic() + 5
    while not slow.received and time.monotonic() < deadline:
        time.sleep(0.02)
    assert slow.received, "the slow delivery never started"
    time.sleep(0.3)  # the sweep has looked for more and found nothing
    OutboxFactory(channel=WebhookChannelFactory(target=fast.url))  # due now, while the slow one waits
    worker.join(10)
    [summary] = results
    assert summary.sent == 2
    assert fast.received and fast.received[0].at - started < 1.5  # not after the slow one's 2 s
