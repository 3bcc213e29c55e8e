"""The figures of each app's dashboard panels (<app>/dashboard.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from exports import dashboard as exports_panel
from exports.models import JobStatus
from notifications import dashboard as notifications_panel
from notifications.models import AttemptOutcome, NotificationOutbox, NotificationStatus
from opsconsole.dashboard import links as dashboard_links
from opsconsole.tests.factories import (
    ChannelFactory,
    ExportJobFactory,
    OutboxFactory,
    PolicyFactory,
    PurgeRunFactory,
    attempts_at,
)
from retention import dashboard as retention_panel
from retention.models import PurgeStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)


# --- the panels ------------------------------------------------------------------------------


def test_outbox_depth_counts_open_statuses_and_leaves_delivered_rows_out():
    channel = ChannelFactory()
    OutboxFactory.create_batch(3, channel=channel, status=NotificationStatus.PENDING)
    OutboxFactory.create_batch(2, channel=channel, status=NotificationStatus.FAILED)
    OutboxFactory.create_batch(4, channel=channel, status=NotificationStatus.SENT)

    depth = {row["status"]: row["rows"] for row in notifications_panel.outbox_depth()}

    assert depth == {"pending": 3, "sending": 0, "failed": 2, "cancelled": 0}


def test_delivery_series_buckets_attempts_per_hour_for_24_hours_and_per_day_for_7_days():
    attempts_at(at=NOW - timedelta(minutes=10), outcome=AttemptOutcome.SENT, count=3)  # this hour
    attempts_at(at=NOW - timedelta(hours=2), outcome=AttemptOutcome.RETRY, count=2)
    attempts_at(at=NOW - timedelta(hours=2), outcome=AttemptOutcome.FAILED, count=1)
    attempts_at(at=NOW - timedelta(days=3), outcome=AttemptOutcome.SENT, count=4)  # daily chart only
    attempts_at(at=NOW - timedelta(days=8), outcome=AttemptOutcome.SENT, count=5)  # too old for both

    series = notifications_panel.delivery_series(now=NOW)
    hourly, daily = series["hourly"], series["daily"]

    assert len(hourly.labels) == 24
    assert hourly.labels[-1] == "10:00"
    assert hourly.sent[-1] == 3
    assert (hourly.retry[-3], hourly.failed[-3]) == (2, 1)
    assert hourly.totals == {"sent": 3, "retry": 2, "failed": 1}
    assert len(daily.labels) == 7
    assert daily.labels[-1] == "Thu 26"
    assert (daily.sent[-1], daily.retry[-1], daily.failed[-1]) == (3, 2, 1)
    assert daily.sent[-4] == 4
    assert daily.totals == {"sent": 7, "retry": 2, "failed": 1}


def test_channel_health_lists_failing_channels_first_with_their_failure_rate():
    healthy = ChannelFactory(name="a-healthy")
    failing = ChannelFactory(name="b-failing", consecutive_failures=4, last_error="HTTP 503 from sink")
    OutboxFactory.create_batch(3, channel=healthy, status=NotificationStatus.SENT, attempts=1)
    OutboxFactory(channel=failing, status=NotificationStatus.SENT, attempts=2)  # one retry, then delivered
    OutboxFactory(channel=failing, status=NotificationStatus.FAILED, attempts=3)  # gave up
    OutboxFactory(channel=failing, status=NotificationStatus.PENDING, attempts=3)  # still retrying
    old = OutboxFactory(channel=healthy, status=NotificationStatus.FAILED, attempts=8)
    NotificationOutbox.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))

    rows = notifications_panel.channel_health()

    assert [row["name"] for row in rows] == ["b-failing", "a-healthy"]
    failing_row, healthy_row = rows
    assert (failing_row["messages_24h"], failing_row["delivered_24h"], failing_row["gave_up_24h"]) == (3, 1, 1)
    assert (failing_row["attempts_24h"], failing_row["failed_attempts_24h"]) == (8, 7)
    assert failing_row["failure_pct"] == 87.5
    assert failing_row["last_error"] == "HTTP 503 from sink"
    assert failing_row["healthy"] is False
    assert (healthy_row["messages_24h"], healthy_row["failure_pct"], healthy_row["healthy"]) == (3, 0.0, True)


def test_channel_without_messages_has_no_failure_rate():
    ChannelFactory()

    (row,) = notifications_panel.channel_health()

    assert row["attempts_24h"] == 0
    assert row["failure_rate"] is None


def test_running_exports_carry_progress_and_finished_ones_are_listed_newest_first():
    running = ExportJobFactory(status=JobStatus.RUNNING, rows_written=250, total_rows=1000)
    ExportJobFactory(status=JobStatus.PENDING)
    older = ExportJobFactory(status=JobStatus.FAILED, error_message="disk full")
    newer = ExportJobFactory(status=JobStatus.COMPLETED, rows_written=7, total_rows=7, file_size=120)

    active = exports_panel.exports_active()
    recent = exports_panel.exports_recent()

    assert [job["status"] for job in active] == ["running", "pending"]
    assert active[0]["id"] == running.pk
    assert active[0]["progress_pct"] == 25.0
    assert active[1]["progress_pct"] is None
    assert [job["id"] for job in recent] == [newer.pk, older.pk]
    assert recent[0]["download_url"] == f"/system/exports/{newer.pk}/download"
    assert recent[1]["download_url"] is None


def test_purge_runs_are_listed_newest_first_and_capped():
    for _ in range(retention_panel.PURGE_RUN_LIMIT + 2):
        PurgeRunFactory()
    latest = PurgeRunFactory(category="maintenance.events", status=PurgeStatus.PARTIAL)

    runs = retention_panel.purge_runs_recent()

    assert len(runs) == retention_panel.PURGE_RUN_LIMIT
    assert runs[0]["id"] == latest.pk


def test_retention_lists_policies_without_counts_when_the_engine_cannot_count(monkeypatch):
    monkeypatch.setattr(retention_panel, "_due_counts_provider", lambda: None)
    PolicyFactory(category="notifications.outbox", days_to_keep=30)

    overview = retention_panel.retention_overview()

    assert overview["due_counts_available"] is False
    assert [(p["category"], p["days_to_keep"], p["due"]) for p in overview["policies"]] == [
        ("notifications.outbox", 30, None)
    ]


def test_retention_shows_rows_due_per_category_from_the_engine(monkeypatch):
    PolicyFactory(category="notifications.outbox", days_to_keep=30)
    due = [
        {"category": "notifications.outbox", "due": 1200, "days_to_keep": 30},
        {"category": "maintenance.events", "due": 0, "days_to_keep": None},
    ]
    monkeypatch.setattr(retention_panel, "_due_counts_provider", lambda: lambda days_by_category: due)

    overview = retention_panel.retention_overview()

    rows = {p["category"]: p for p in overview["policies"]}
    assert overview["due_counts_available"] is True
    assert rows["notifications.outbox"]["due"] == 1200
    assert rows["maintenance.events"]["due"] == 0
    assert rows["maintenance.events"]["id"] is None


class _OutboxAgeCategory:
    """Stands in for a registered retention category: outbox rows by creation time."""

    name = "notifications.outbox"
    default_days_to_keep = 90

    def cutoff(self, days_to_keep, *, now):
        return now - timedelta(days=days_to_keep)

    def expired(self, cutoff):
        return NotificationOutbox.objects.filter(created_at__lt=cutoff)


def test_rows_due_follow_the_policy_period_or_the_category_default():
    OutboxFactory.create_batch(3)
    NotificationOutbox.objects.update(created_at=timezone.now() - timedelta(days=40))

    under_policy = retention_panel.capped_due_counts([_OutboxAgeCategory()], {"notifications.outbox": 30})
    by_default = retention_panel.capped_due_counts([_OutboxAgeCategory()], {})

    assert under_policy == [{"category": "notifications.outbox", "days_to_keep": 30, "due": 3, "due_capped": False}]
    assert (by_default[0]["days_to_keep"], by_default[0]["due"]) == (90, 0)


def test_rows_due_stop_counting_at_the_cap(monkeypatch):
    monkeypatch.setattr(retention_panel, "DUE_COUNT_CAP", 2)
    OutboxFactory.create_batch(3)
    NotificationOutbox.objects.update(created_at=timezone.now() - timedelta(days=40))

    (row,) = retention_panel.capped_due_counts([_OutboxAgeCategory()], {"notifications.outbox": 30})

    assert (row["due"], row["due_capped"]) == (2, True)


def test_a_capped_count_reads_as_at_least_the_cap(monkeypatch, staff_client):
    due = [{"category": "notifications.outbox", "due": 10_000, "due_capped": True, "days_to_keep": 30}]
    monkeypatch.setattr(retention_panel, "_due_counts_provider", lambda: lambda days_by_category: due)

    html = staff_client.get("/admin/").content.decode()

    assert "10000+" in html


def test_changelist_links_carry_their_filters():
    assert dashboard_links.admin_changelist_url(User, is_staff__exact=1) == "/admin/auth/user/?is_staff__exact=1"


def test_changelist_link_is_none_for_a_model_not_in_the_admin():
    from django.contrib.sessions.models import Session

    assert dashboard_links.admin_changelist_url(Session) is None
