from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exports import dashboard as exports_panel
from exports.models import JobStatus
from maintenance.models import Mode
from maintenance.services import maintenance_set_mode
from notifications import dashboard as notifications_panel
from notifications.models import AttemptOutcome, NotificationStatus
from opsconsole.tests.factories import (
    ChannelFactory,
    ExportJobFactory,
    OutboxFactory,
    PolicyFactory,
    PurgeRunFactory,
    attempts_at,
)
from retention import dashboard as retention_panel

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)


def _populate(*, channels: int) -> None:
    """Some rows in every table the dashboard reads."""
    now = timezone.now()
    for index in range(channels):
        channel = ChannelFactory(consecutive_failures=index % 2, last_error="HTTP 503" if index % 2 else "")
        attempts_at(at=now - timedelta(hours=index), outcome=AttemptOutcome.SENT, count=2, channel=channel)
        attempts_at(at=now - timedelta(days=index % 7), outcome=AttemptOutcome.FAILED, count=1, channel=channel)
        ExportJobFactory(status=JobStatus.RUNNING, rows_written=10 * index, total_rows=100)
        ExportJobFactory(status=JobStatus.COMPLETED, rows_written=5, total_rows=5)
        PolicyFactory()
        PurgeRunFactory()


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
    attempts_at(at=timezone.now(), outcome=AttemptOutcome.SENT, count=2)

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
    monkeypatch.setattr(retention_panel, "_due_counts_provider", lambda: None)
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
    attempts_at(at=timezone.now(), outcome=AttemptOutcome.FAILED, count=1)

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


# --- composition ----------------------------------------------------------------------------


def test_each_app_contributes_its_own_panels():
    from opsconsole.dashboard.registry import registry

    owners = {panel.name: panel.figures.__module__ for panel in registry.panels()}

    assert owners == {
        "maintenance": "maintenance.dashboard",
        "notifications": "notifications.dashboard",
        "channels": "notifications.dashboard",
        "exports": "exports.dashboard",
        "retention": "retention.dashboard",
        "purge_runs": "retention.dashboard",
    }
    assert registry.chart_panel().name == "notifications"


def test_the_dashboard_itself_imports_no_app():
    import ast
    from pathlib import Path

    import opsconsole.dashboard

    folder = Path(opsconsole.dashboard.__file__).parent
    imported = set()
    for module in folder.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)

    assert imported.isdisjoint({"maintenance", "notifications", "exports", "retention", "apitokens"})


def test_a_panel_name_taken_by_another_app_is_refused():
    from opsconsole.dashboard.registry import DashboardRegistry, Panel

    registry = DashboardRegistry()
    registry.register(Panel(name="outbox", permission="x.view_y", figures=notifications_panel.outbox_figures))

    with pytest.raises(ValueError, match="already registered by notifications.dashboard"):
        registry.register(Panel(name="outbox", permission="x.view_y", figures=exports_panel.exports_figures))
