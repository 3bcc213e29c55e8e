"""Start an export from the admin, let a real worker write it, download the file."""

from __future__ import annotations

import csv
import io
import re

import pytest

from exports.models import ExportJob, JobStatus
from notifications.models import NotificationStatus
from opsconsole.testing import celery_worker, wait_for
from opsconsole.tests.factories import OutboxFactory
from tests.e2e.conftest import admin_login

pytestmark = [pytest.mark.e2e, pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_staff_starts_an_export_in_the_admin_and_downloads_the_file(page, staff_user, screenshot, settings, tmp_path):
    # The worker keeps its var/ (media, temp files) under this test's tmp_path; the live server reads the same media.
    worker_var = tmp_path / "worker-var"
    settings.MEDIA_ROOT = str(worker_var / "media")
    sent = OutboxFactory.create_batch(12, status=NotificationStatus.SENT)
    OutboxFactory.create_batch(3, status=NotificationStatus.FAILED)
    admin_login(page, username=staff_user.username)

    with celery_worker(OPSCONSOLE_VAR_DIR=str(worker_var)):
        page.goto("/admin/exports/exportjob/add/")
        page.select_option("#id_job_type", "snapshot")
        assert page.locator(".form-row.field-datasets").is_visible()  # the dataset list: snapshots only
        page.select_option("#id_job_type", "notifications.outbox")
        assert not page.locator(".form-row.field-datasets").is_visible()
        outbox_filters = page.locator('.dataset-filters-group[data-dataset="notifications.outbox"]')
        assert outbox_filters.is_visible()
        assert not page.locator('.dataset-filters-group[data-dataset="maintenance.events"]').is_visible()
        page.select_option("#id_format", "csv")
        outbox_filters.locator('input[type="checkbox"][value="sent"]').check()
        assert page.locator('.submit-row input[type="submit"]').count() == 1  # one "Start export"
        screenshot("start-form")
        page.click('input[value="Start export"]')
        page.wait_for_url(re.compile(r"/admin/exports/exportjob/"))
        job = ExportJob.objects.get()
        assert job.requested_by_user_id == staff_user.pk
        assert job.filter_params == {"status": "sent"}
        screenshot("job-queued")

        wait_for(
            lambda: ExportJob.objects.filter(pk=job.pk, status__in=[JobStatus.COMPLETED, JobStatus.FAILED]).exists(),
            timeout=60,
            message="the worker to finish the export",
        )
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error_message

    page.goto("/admin/exports/exportjob/")
    row = page.locator("#result_list tbody tr", has_text=f"{job.pk}").first
    assert "100%" in row.inner_text()
    screenshot("job-completed")
    with page.expect_download() as download_info:
        row.get_by_role("link", name="download").click()
    download = download_info.value
    path = tmp_path / (download.suggested_filename or "export.csv")
    download.save_as(path)

    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert sorted(int(r["id"]) for r in rows) == sorted(o.pk for o in sent)
    assert {r["status"] for r in rows} == {"sent"}
    assert path.stat().st_size == job.file_size

    page.goto("/admin/")
    recent = page.locator(f'#ops-exports tr[data-export="{job.pk}"]')
    assert "Completed" in recent.inner_text()
    screenshot("dashboard-lists-the-export")


def test_staff_exports_a_filtered_list_as_xlsx_and_watches_it_finish_without_reloading(
    page, staff_user, screenshot, settings, tmp_path
):
    worker_var = tmp_path / "worker-var"
    settings.MEDIA_ROOT = str(worker_var / "media")
    failed = OutboxFactory.create_batch(4, status=NotificationStatus.FAILED)
    OutboxFactory.create_batch(2, status=NotificationStatus.SENT)
    admin_login(page, username=staff_user.username)

    page.goto("/admin/notifications/notificationoutbox/?status__exact=failed")
    page.check("#action-toggle")
    page.select_option('select[name="action"]', "export_notifications_outbox_rows")
    page.select_option('select[name="export_format"]', "xlsx")
    screenshot("format-picked")
    page.click('button[name="index"]')
    job = ExportJob.objects.get()
    assert (job.format, job.filter_params) == ("xlsx", {"status": "failed"})
    page.click(f'.messagelist a[href="/admin/exports/exportjob/{job.pk}/change/"]')
    page.wait_for_url(re.compile(rf"/admin/exports/exportjob/{job.pk}/change/$"))
    # No worker yet: the page shows the job pending, then follows it by itself.
    assert page.locator(f'.job-progress[data-job="{job.pk}"]').get_attribute("data-status") == "pending"
    assert page.locator(f'.job-download[data-job="{job.pk}"]').inner_text() == "—"
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    screenshot("job-page-pending")
    with celery_worker(OPSCONSOLE_VAR_DIR=str(worker_var)):
        page.wait_for_selector(f'.job-progress[data-job="{job.pk}"][data-status="completed"]', timeout=60_000)
    assert page.evaluate("window.__sameDocument") is True
    assert "100%" in page.locator(f'.job-progress[data-job="{job.pk}"]').inner_text()
    assert page.locator(f'.job-status[data-job="{job.pk}"]').inner_text() == "Completed"
    assert (
        page.locator(f'.job-download[data-job="{job.pk}"] a').get_attribute("href")
        == f"/system/exports/{job.pk}/download"
    )
    screenshot("job-page-completed-without-reload")
    job.refresh_from_db()
    assert job.rows_written == len(failed)
    assert page.console_errors == []
