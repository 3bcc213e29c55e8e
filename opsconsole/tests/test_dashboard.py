from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exports.models import JobStatus
from maintenance.models import Mode
from maintenance.services import maintenance_set_mode
from notifications.models import AttemptOutcome, NotificationOutbox, NotificationStatus
from opsconsole.dashboard import selectors
from opsconsole.tests.factories import (
    AttemptFactory,
    ChannelFactory,
    ExportJobFactory,
    OutboxFactory,
    PolicyFactory,
    PurgeRunFactory,
)
from retention.models import PurgeStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def _attempts(*, at: datetime, outcome: str, count: int, channel=None) -> None:
    for _ in range(count):
        outbox = OutboxFactory(channel=channel) if channel else OutboxFactory()
        AttemptFactory(outbox=outbox, started_at=at, outcome=outcome)


def _populate(*, channels: int) -> None:
    """Some rows in every table the dashboard reads."""
    now = timezone.now()
    for index in range(channels):
        channel = ChannelFactory(consecutive_failures=index % 2, last_error="HTTP 503" if index % 2 else "")
        _attempts(at=now - timedelta(hours=index), outcome=AttemptOutcome.SENT, count=2, channel=channel)
        _attempts(at=now - timedelta(days=index % 7), outcome=AttemptOutcome.FAILED, count=1, channel=channel)
        ExportJobFactory(status=JobStatus.RUNNING, rows_written=10 * index, total_rows=100)
        ExportJobFactory(status=JobStatus.COMPLETED, rows_written=5, total_rows=5)
        PolicyFactory()
        PurgeRunFactory()


# --- selectors ------------------------------------------------------------------------------


def test_outbox_depth_counts_open_statuses_and_leaves_delivered_rows_out():
    channel = ChannelFactory()
    OutboxFactory.create_batch(3, channel=channel, status=NotificationStatus.PENDING)
    OutboxFactory.create_batch(2, channel=channel, status=NotificationStatus.FAILED)
    OutboxFactory.create_batch(4, channel=channel, status=NotificationStatus.SENT)

    depth = {row["status"]: row["rows"] for row in selectors.outbox_depth()}

    assert depth == {"pending": 3, "sending": 0, "failed": 2, "cancelled": 0}


def test_delivery_series_buckets_attempts_per_hour_for_24_hours_and_per_day_for_7_days():
    _attempts(at=NOW - timedelta(minutes=10), outcome=AttemptOutcome.SENT, count=3)  # this hour
    _attempts(at=NOW - timedelta(hours=2), outcome=AttemptOutcome.RETRY, count=2)
    _attempts(at=NOW - timedelta(hours=2), outcome=AttemptOutcome.FAILED, count=1)
    _attempts(at=NOW - timedelta(days=3), outcome=AttemptOutcome.SENT, count=4)  # daily chart only
    _attempts(at=NOW - timedelta(days=8), outcome=AttemptOutcome.SENT, count=5)  # too old for both

    series = selectors.delivery_series(now=NOW)
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

    rows = selectors.channel_health()

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

    (row,) = selectors.channel_health()

    assert row["attempts_24h"] == 0
    assert row["failure_rate"] is None


def test_running_exports_carry_progress_and_finished_ones_are_listed_newest_first():
    running = ExportJobFactory(status=JobStatus.RUNNING, rows_written=250, total_rows=1000)
    ExportJobFactory(status=JobStatus.PENDING)
    older = ExportJobFactory(status=JobStatus.FAILED, error_message="disk full")
    newer = ExportJobFactory(status=JobStatus.COMPLETED, rows_written=7, total_rows=7, file_size=120)

    active = selectors.exports_active()
    recent = selectors.exports_recent()

    assert [job["status"] for job in active] == ["running", "pending"]
    assert active[0]["id"] == running.pk
    assert active[0]["progress_pct"] == 25.0
    assert active[1]["progress_pct"] is None
    assert [job["id"] for job in recent] == [newer.pk, older.pk]
    assert recent[0]["download_url"] == f"/system/exports/{newer.pk}/download"
    assert recent[1]["download_url"] is None


def test_purge_runs_are_listed_newest_first_and_capped():
    for _ in range(selectors.PURGE_RUN_LIMIT + 2):
        PurgeRunFactory()
    latest = PurgeRunFactory(category="maintenance.events", status=PurgeStatus.PARTIAL)

    runs = selectors.purge_runs_recent()

    assert len(runs) == selectors.PURGE_RUN_LIMIT
    assert runs[0]["id"] == latest.pk


def test_retention_lists_policies_without_counts_when_the_engine_cannot_count(monkeypatch):
    monkeypatch.setattr(selectors, "_due_counts_provider", lambda: None)
    PolicyFactory(category="notifications.outbox", days_to_keep=30)

    overview = selectors.retention_overview()

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
    monkeypatch.setattr(selectors, "_due_counts_provider", lambda: lambda days_by_category: due)

    overview = selectors.retention_overview()

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

    under_policy = selectors.capped_due_counts([_OutboxAgeCategory()], {"notifications.outbox": 30})
    by_default = selectors.capped_due_counts([_OutboxAgeCategory()], {})

    assert under_policy == [{"category": "notifications.outbox", "days_to_keep": 30, "due": 3, "due_capped": False}]
    assert (by_default[0]["days_to_keep"], by_default[0]["due"]) == (90, 0)


def test_rows_due_stop_counting_at_the_cap(monkeypatch):
    monkeypatch.setattr(selectors, "DUE_COUNT_CAP", 2)
    OutboxFactory.create_batch(3)
    NotificationOutbox.objects.update(created_at=timezone.now() - timedelta(days=40))

    (row,) = selectors.capped_due_counts([_OutboxAgeCategory()], {"notifications.outbox": 30})

    assert (row["due"], row["due_capped"]) == (2, True)


def test_a_capped_count_reads_as_at_least_the_cap(monkeypatch, staff_client):
    due = [{"category": "notifications.outbox", "due": 10_000, "due_capped": True, "days_to_keep": 30}]
    monkeypatch.setattr(selectors, "_due_counts_provider", lambda: lambda days_by_category: due)

    html = staff_client.get("/admin/").content.decode()

    assert "10000+" in html


def test_changelist_links_carry_their_filters():
    assert selectors.admin_changelist_url(User, is_staff__exact=1) == "/admin/auth/user/?is_staff__exact=1"


def test_changelist_link_is_none_for_a_model_not_in_the_admin():
    from django.contrib.sessions.models import Session

    assert selectors.admin_changelist_url(Session) is None


# --- the page -------------------------------------------------------------------------------


def test_admin_index_shows_every_panel_and_the_app_list_to_staff(staff_client):
    _populate(channels=2)

    response = staff_client.get("/admin/")

    assert response.status_code == 200
    html = response.content.decode()
    for panel in ["ops-maintenance", "ops-outbox", "ops-chart-hourly", "ops-chart-daily", "ops-channels"]:
        assert f'id="{panel}"' in html
    for panel in ["ops-exports", "ops-retention", "ops-purge-runs", "ops-deliveries-data"]:
        assert f'id="{panel}"' in html
    assert "vendor/chartjs-4.6.1/chart.umd.min.js" in html
    assert 'id="recent-actions-module"' in html
    assert "/admin/auth/user/" in html  # the app list is still there


def test_dashboard_embeds_the_chart_series(staff_client):
    _attempts(at=timezone.now(), outcome=AttemptOutcome.SENT, count=2)

    response = staff_client.get("/admin/")

    deliveries = response.context["dashboard"]["deliveries"]
    assert deliveries["hourly"]["sent"][-1] == 2
    assert deliveries["daily"]["totals"]["sent"] == 2


def test_dashboard_shows_the_mode_and_the_way_to_the_maintenance_screen(staff_client, staff_user):
    maintenance_set_mode(mode=Mode.READ_ONLY, reason="db upgrade", actor=staff_user, message="Back at 11:00")

    html = staff_client.get("/admin/").content.decode()

    assert 'data-mode="read_only"' in html
    assert "Back at 11:00" in html
    assert 'href="/admin/maintenance/maintenancestate/"' in html
    assert "by ops" in html


def test_anonymous_visitor_is_sent_to_the_login_page():
    response = Client().get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_view_permissions_sees_the_admin_but_no_panels(django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    client = Client()
    client.force_login(user)

    html = client.get("/admin/").content.decode()

    assert 'id="ops-dashboard"' in html
    assert 'id="ops-outbox"' not in html
    assert 'id="ops-channels"' not in html


def test_staff_sees_only_the_panels_they_may_view(django_user_model):
    user = django_user_model.objects.create_user("exporter", password="pw-exp-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_exportjob"))
    client = Client()
    client.force_login(user)

    html = client.get("/admin/").content.decode()

    assert 'id="ops-exports"' in html
    assert 'id="ops-outbox"' not in html


def test_dashboard_needs_at_most_twelve_queries_besides_the_retention_engines_counts(
    staff_client, django_assert_max_num_queries, monkeypatch
):
    # session + user + 9 figures + the admin's recent actions; the engine's counts are its own.
    monkeypatch.setattr(selectors, "_due_counts_provider", lambda: None)
    _populate(channels=3)

    with django_assert_max_num_queries(12):
        assert staff_client.get("/admin/").status_code == 200


def test_dashboard_query_count_does_not_grow_with_the_rows(staff_client, django_assert_num_queries):
    _populate(channels=2)
    staff_client.get("/admin/")  # warm the shared state caches, so both requests below find them warm
    with CaptureQueriesContext(connection) as few_rows:
        staff_client.get("/admin/")
    _populate(channels=6)

    with django_assert_num_queries(len(few_rows.captured_queries)):
        staff_client.get("/admin/")


# --- the chart data endpoint ----------------------------------------------------------------


def test_chart_data_serves_series_and_outbox_depth_to_staff(staff_client):
    OutboxFactory(status=NotificationStatus.FAILED)
    _attempts(at=timezone.now(), outcome=AttemptOutcome.FAILED, count=1)

    for path in ["/admin/dashboard/data", "/admin/dashboard/data/"]:
        response = staff_client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body["outbox_depth"]["failed"] == 1
        assert body["hourly"]["failed"][-1] == 1
        assert len(body["daily"]["labels"]) == 7
        assert response["Cache-Control"].startswith("max-age=0")


def test_chart_data_refuses_anonymous_with_401_and_non_staff_with_403(django_user_model):
    assert Client().get("/admin/dashboard/data").status_code == 401
    user = django_user_model.objects.create_user("visitor", password="pw-visitor-123")
    client = Client()
    client.force_login(user)
    assert client.get("/admin/dashboard/data").status_code == 403


def test_chart_data_refuses_writes(staff_client):
    assert staff_client.post("/admin/dashboard/data").status_code == 405


def test_every_dashboard_link_opens_its_filtered_changelist(staff_client):
    _populate(channels=2)
    failing = ChannelFactory(consecutive_failures=2)
    OutboxFactory(channel=failing, status=NotificationStatus.FAILED)
    dashboard = staff_client.get("/admin/").context["dashboard"]
    links = [url for url in dashboard["links"].values() if url]
    links += [row["url"] for row in dashboard["outbox_depth"]]
    links += [row["failed_url"] for row in dashboard["channels"] if row["consecutive_failures"]]

    assert "/admin/notifications/notificationoutbox/?status__exact=failed" in links
    for url in links:
        response = staff_client.get(url)
        # The admin answers a lookup it refuses with a redirect to ?e=1, not an error.
        assert response.status_code == 200, url
        assert response.context["cl"].result_count >= 0, url
    failing_row = next(row for row in dashboard["channels"] if row["id"] == failing.pk)
    assert staff_client.get(failing_row["failed_url"]).context["cl"].result_count == 1
