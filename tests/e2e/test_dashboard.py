"""Log in to the admin and see the dashboard draw its charts from real rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exports.models import JobStatus
from notifications.models import AttemptOutcome, NotificationStatus
from opsconsole.tests.factories import (
    AttemptFactory,
    ChannelFactory,
    ExportJobFactory,
    OutboxFactory,
    PolicyFactory,
    PurgeRunFactory,
)
from retention.models import PurgeStatus
from tests.e2e.conftest import admin_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SENT_GREEN = (46, 125, 50)  # #2e7d32, the "Sent" bars in opsconsole/static/opsconsole/dashboard.js

# Counts the canvas pixels close to an RGB colour: proof that bars were drawn, not only an empty axis.
COUNT_PIXELS_JS = """([canvasId, rgb]) => {
  const canvas = document.getElementById(canvasId);
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0, matching = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    painted++;
    if (Math.abs(data[i] - rgb[0]) < 12 && Math.abs(data[i + 1] - rgb[1]) < 12 && Math.abs(data[i + 2] - rgb[2]) < 12) {
      matching++;
    }
  }
  return {painted, matching};
}"""

CHART_SUMS_JS = """(name) => {
  const chart = window.opsDashboard.charts[name];
  return Object.fromEntries(chart.data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)]));
}"""


def _rows_in_every_panel() -> dict[str, int]:
    now = timezone.now()
    webhook = ChannelFactory(name="ops-webhook", channel_type="webhook", target="https://hooks.example.test/ops")
    pager = ChannelFactory(
        name="pager", consecutive_failures=3, last_error="HTTP 503 Service Unavailable", last_failure_at=now
    )
    sent = retry = failed = 0
    for hours_ago in range(0, 20, 2):
        for _ in range(hours_ago % 5 + 1):
            outbox = OutboxFactory(channel=webhook, status=NotificationStatus.SENT, sent_at=now, attempts=1)
            AttemptFactory(outbox=outbox, started_at=now - timedelta(hours=hours_ago), outcome=AttemptOutcome.SENT)
            sent += 1
    for days_ago in range(1, 6):
        outbox = OutboxFactory(channel=pager, status=NotificationStatus.FAILED, last_error="HTTP 503", attempts=2)
        AttemptFactory(outbox=outbox, started_at=now - timedelta(days=days_ago), outcome=AttemptOutcome.RETRY)
        AttemptFactory(
            outbox=outbox, number=2, started_at=now - timedelta(days=days_ago), outcome=AttemptOutcome.FAILED
        )
        retry += 1
        failed += 1
    OutboxFactory.create_batch(4, channel=webhook, status=NotificationStatus.PENDING)
    ExportJobFactory(status=JobStatus.RUNNING, rows_written=420_000, total_rows=1_000_000, started_at=now)
    ExportJobFactory(status=JobStatus.COMPLETED, rows_written=1200, total_rows=1200, file_size=48_000, completed_at=now)
    PolicyFactory(category="notifications.outbox", days_to_keep=30)
    PolicyFactory(category="maintenance.events", days_to_keep=365, legal_hold=True)
    PurgeRunFactory(category="notifications.outbox", matched=5000, deleted=5000)
    PurgeRunFactory(category="maintenance.events", dry_run=True, matched=12, deleted=0, status=PurgeStatus.COMPLETED)
    return {"sent": sent, "retry": retry, "failed": failed}


def test_staff_logs_in_and_a_wrong_password_is_refused(page, staff_user, screenshot):
    page.goto("/admin/")
    page.wait_for_url("**/admin/login/**")
    screenshot("login-form")

    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    assert "Please enter the correct username and password" in page.locator(".errornote").inner_text()
    screenshot("wrong-password")

    admin_login(page, username=staff_user.username)
    assert page.locator("#ops-dashboard").is_visible()
    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME")
    screenshot("logged-in")


def test_dashboard_draws_delivery_charts_from_real_rows(page, staff_user, screenshot, outside_requests):
    expected = _rows_in_every_panel()
    admin_login(page, username=staff_user.username)
    page.wait_for_function("() => window.opsDashboard && window.opsDashboard.charts.daily")

    hourly = page.evaluate(CHART_SUMS_JS, "hourly")
    daily = page.evaluate(CHART_SUMS_JS, "daily")
    assert hourly == {"Sent": expected["sent"], "Retry": 0, "Failed": 0}
    assert daily == {"Sent": expected["sent"], "Retry": expected["retry"], "Failed": expected["failed"]}
    for canvas in ["ops-chart-hourly", "ops-chart-daily"]:
        pixels = page.evaluate(COUNT_PIXELS_JS, [canvas, list(SENT_GREEN)])
        assert pixels["matching"] > 200, f"{canvas} has no sent bars drawn: {pixels}"

    assert page.locator('[data-outbox-status="pending"]').inner_text() == "4"
    assert page.locator('[data-outbox-status="failed"]').inner_text() == "5"
    pager_row = page.locator('#ops-channels tr[data-channel="pager"]')
    assert "HTTP 503 Service Unavailable" in pager_row.inner_text()
    assert "failing" in pager_row.inner_text()
    assert "100.0 % of 10" in pager_row.inner_text()
    assert page.locator("#ops-exports progress").get_attribute("value") == "42.0"
    assert page.locator('#ops-retention tr[data-category="maintenance.events"]').inner_text().count("legal hold") == 1
    assert page.locator("#ops-purge-runs tbody tr").count() == 2
    assert page.locator("#ops-maintenance [data-mode]").get_attribute("data-mode") == "normal"
    assert outside_requests == []
    assert page.console_errors == []
    screenshot("dashboard")


def test_dashboard_charts_refresh_from_the_data_endpoint(page, staff_user, screenshot):
    channel = ChannelFactory()
    admin_login(page, username=staff_user.username)
    page.wait_for_function("() => window.opsDashboard && window.opsDashboard.charts.hourly")
    assert page.evaluate(CHART_SUMS_JS, "hourly")["Failed"] == 0
    screenshot("before-refresh")

    for _ in range(3):
        outbox = OutboxFactory(channel=channel, status=NotificationStatus.FAILED)
        AttemptFactory(outbox=outbox, outcome=AttemptOutcome.FAILED)
    page.evaluate("() => window.opsDashboard.refresh('/admin/dashboard/data')")
    page.wait_for_function("() => window.opsDashboard.charts.hourly.data.datasets[2].data.at(-1) === 3")

    assert page.locator('[data-outbox-status="failed"]').inner_text() == "3"
    assert page.console_errors == []
    screenshot("after-refresh")
