"""Export any changelist in any format, and the live progress endpoint the job pages poll."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from exports import services
from exports.formats import FORMATS
from exports.models import ExportJob, JobStatus
from exports.tests.factories import ExportJobFactory, completed_job
from maintenance.tests.factories import MaintenanceEventFactory
from notifications.models import NotificationAttempt
from notifications.tests.factories import ChannelFactory, OutboxFactory
from retention.tests.factories import PurgeRunFactory

pytestmark = pytest.mark.django_db

PROGRESS = "/admin/exports/exportjob/progress/"


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("format", list(FORMATS))
def test_the_outbox_list_exports_in_the_picked_format(staff_client, format):
    row = OutboxFactory(status="failed")
    staff_client.post(
        "/admin/notifications/notificationoutbox/?status__exact=failed",
        {"action": "export_notifications_outbox_rows", "export_format": format, ACTION_CHECKBOX_NAME: [row.pk]},
    )
    job = ExportJob.objects.get()
    assert (job.job_type, job.format, job.filter_params) == ("notifications.outbox", format, {"status": "failed"})


def test_the_changelist_offers_the_format_picker(staff_client):
    OutboxFactory()
    html = staff_client.get("/admin/notifications/notificationoutbox/").content.decode()
    assert 'name="export_format"' in html
    for format in FORMATS:
        assert f'<option value="{format}"' in html


def test_an_unknown_format_starts_nothing(staff_client):
    row = OutboxFactory()
    staff_client.post(
        "/admin/notifications/notificationoutbox/",
        {"action": "export_notifications_outbox_rows", "export_format": "pdf", ACTION_CHECKBOX_NAME: [row.pk]},
    )
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize(
    ("changelist", "action", "query", "expected"),
    [
        (
            "/admin/notifications/notificationattempt/",
            "export_notifications_attempts_rows",
            "outcome__exact=failed",
            {"outcome": "failed"},
        ),
        (
            "/admin/maintenance/maintenanceevent/",
            "export_maintenance_events_rows",
            "to_mode__exact=read_only",
            {"to_mode": "read_only"},
        ),
        ("/admin/retention/purgerun/", "export_retention_purge_runs_rows", "dry_run__exact=1", {"dry_run": "true"}),
        (
            "/admin/retention/dataretentionpolicy/",
            "export_retention_policies_rows",
            "enabled__exact=0",
            {"enabled": "false"},
        ),
    ],
)
def test_every_audit_list_exports_its_filtered_rows(staff_client, changelist, action, query, expected):
    attempt_outbox = OutboxFactory()
    NotificationAttempt.objects.create(outbox=attempt_outbox, number=1, outcome="failed", started_at=timezone.now())
    MaintenanceEventFactory()
    PurgeRunFactory()
    response = staff_client.post(
        f"{changelist}?{query}", {"action": action, "export_format": "xlsx", ACTION_CHECKBOX_NAME: ["1"]}, follow=True
    )
    job = ExportJob.objects.get()
    assert job.format == "xlsx"
    assert job.filter_params == expected
    assert any(f"export #{job.pk}" in m for m in messages_of(response))


def test_attempts_filtered_by_channel_export_that_channels_attempts(staff_client):
    channel = ChannelFactory()
    attempt = NotificationAttempt.objects.create(
        outbox=OutboxFactory(channel=channel), number=1, outcome="sent", started_at=timezone.now()
    )
    staff_client.post(
        f"/admin/notifications/notificationattempt/?outbox__channel__id__exact={channel.pk}",
        {"action": "export_notifications_attempts_rows", "export_format": "jsonl", ACTION_CHECKBOX_NAME: [attempt.pk]},
    )
    assert ExportJob.objects.get().filter_params == {"channel": str(channel.pk)}


def test_a_staff_member_who_may_not_export_starts_nothing(staff_client_with):
    viewer = staff_client_with("view_notificationoutbox", "change_notificationoutbox")
    row = OutboxFactory()
    response = viewer.post(
        "/admin/notifications/notificationoutbox/",
        {"action": "export_notifications_outbox_rows", "export_format": "csv", ACTION_CHECKBOX_NAME: [row.pk]},
        follow=True,
    )
    assert "Nothing exported: you may not start exports." in messages_of(response)
    assert not ExportJob.objects.exists()


def test_progress_endpoint_reports_the_jobs_asked_for(staff_client):
    running = ExportJobFactory(status=JobStatus.RUNNING, rows_written=30, total_rows=120)
    done = completed_job()
    ExportJobFactory(status=JobStatus.PENDING)  # not asked for
    response = staff_client.get(f"{PROGRESS}?ids={running.pk},{done.pk}")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    jobs = {job["id"]: job for job in response.json()["jobs"]}
    assert set(jobs) == {running.pk, done.pk}
    assert (jobs[running.pk]["status"], jobs[running.pk]["percent"], jobs[running.pk]["download_url"]) == (
        "running",
        25,
        None,
    )
    assert (jobs[done.pk]["percent"], jobs[done.pk]["download_url"]) == (100, done.download_path)


def test_progress_endpoint_refuses_bad_ids_and_users_without_view_permission(staff_client, staff_client_with, client):
    assert staff_client.get(f"{PROGRESS}?ids=1,x").status_code == 400
    assert staff_client.get(f"{PROGRESS}?ids=" + ",".join(["1"] * 201)).status_code == 400
    outsider = staff_client_with("view_notificationoutbox")
    assert outsider.get(f"{PROGRESS}?ids=1").status_code == 403
    assert client.get(f"{PROGRESS}?ids=1").status_code == 302  # to the login page


def test_job_cells_carry_what_the_poller_needs(staff_client):
    job = ExportJobFactory(status=JobStatus.RUNNING, rows_written=5, total_rows=10)
    for url in ("/admin/exports/exportjob/", reverse("admin:exports_exportjob_change", args=[job.pk])):
        html = staff_client.get(url).content.decode()
        assert f'class="job-progress" data-job="{job.pk}" data-status="running" data-progress-url="{PROGRESS}"' in html
        assert "exports/job_progress.js" in html
