"""The buttons on an export job's page: Cancel, Download, Run again."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from exports import services
from exports.models import ExportJob, JobStatus
from exports.tests.factories import ExportJobFactory, completed_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def action(job, tool):
    return reverse("admin:exports_exportjob_actions", kwargs={"pk": job.pk, "tool": tool})


def change_page(client, job) -> str:
    return client.get(reverse("admin:exports_exportjob_change", args=[job.pk])).content.decode()


def test_a_running_job_is_cancelled_from_its_page(staff_client):
    job = ExportJobFactory(status=JobStatus.RUNNING)
    assert action(job, "cancel_this") in change_page(staff_client, job)
    assert action(job, "download_file") not in change_page(staff_client, job)

    staff_client.post(action(job, "cancel_this"))

    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == (JobStatus.CANCELLED, True)


def test_cancelling_a_finished_job_is_a_message(staff_client):
    job = completed_job()
    assert action(job, "cancel_this") not in change_page(staff_client, job)
    response = staff_client.post(action(job, "cancel_this"), follow=True)
    assert any("only pending or running jobs can be cancelled" in m for m in messages_of(response))
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED


def test_download_leads_to_the_apis_download_endpoint(staff_client):
    job = completed_job(content=b"id\n7\n")
    assert action(job, "download_file") in change_page(staff_client, job)
    response = staff_client.get(action(job, "download_file"))
    assert response.status_code == 302 and response["Location"] == job.download_path
    assert b"".join(staff_client.get(job.download_path).streaming_content) == b"id\n7\n"


def test_run_again_starts_a_new_job_with_the_same_request(staff_client, staff_user, enqueued):
    old = completed_job(job_type="notifications.outbox", format="jsonl", filter_params={"status": "sent"})
    response = staff_client.post(action(old, "run_again"))
    new = ExportJob.objects.exclude(pk=old.pk).get()
    assert response["Location"] == reverse("admin:exports_exportjob_change", args=[new.pk])
    assert (new.job_type, new.format, new.filter_params) == ("notifications.outbox", "jsonl", {"status": "sent"})
    assert new.requested_by_user == staff_user
    assert enqueued == [new.pk]


def test_a_view_only_user_may_download_but_not_cancel_or_run_again(staff_client_with, enqueued):
    viewer = staff_client_with("view_exportjob")
    running = ExportJobFactory(status=JobStatus.RUNNING)
    page = change_page(viewer, running)
    assert "/actions/" not in page
    assert viewer.post(action(running, "cancel_this")).status_code == 403
    assert viewer.post(action(running, "run_again")).status_code == 403
    running.refresh_from_db()
    assert running.status == JobStatus.RUNNING
    assert ExportJob.objects.count() == 1 and enqueued == []


def test_run_again_in_read_only_mode_starts_nothing(staff_client, switch_mode, enqueued):
    old = completed_job()
    switch_mode("read_only")
    response = staff_client.post(action(old, "run_again"), follow=True)
    assert response.status_code == 200
    assert any(m.startswith("Run again: not done. The console is in read_only mode") for m in messages_of(response))
    assert ExportJob.objects.count() == 1 and enqueued == []
