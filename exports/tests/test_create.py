"""Creating a job: validation that names the field, dedupe of identical active requests, enqueue after commit."""

import pytest

from exports import services
from exports.exceptions import InvalidExportRequest, UnknownDataset
from exports.models import ExportJob, JobStatus
from exports.tests.factories import ExportJobFactory


@pytest.fixture
def no_enqueue(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


@pytest.mark.django_db
def test_creating_a_job_enqueues_the_worker_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    from opsconsole import doorbell

    delayed = []
    monkeypatch.setattr(doorbell, "ring", lambda task_name, job_id: delayed.append((task_name, job_id)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job, created = services.export_job_create(job_type="notifications.outbox", format="jsonl")
    assert created and job.status == JobStatus.PENDING
    assert delayed == []  # nothing is sent before the row is committed
    for callback in callbacks:
        callback()
    assert delayed == [("exports.tasks.run_export", job.pk)]


@pytest.mark.django_db
def test_an_identical_active_job_is_returned_instead_of_a_duplicate(no_enqueue):
    first, created = services.export_job_create(
        job_type="notifications.outbox", filter_params={"status": "sent"}, requested_by="ana"
    )
    again, created_again = services.export_job_create(
        job_type="notifications.outbox", filter_params={"status": "sent"}, requested_by="ana"
    )
    assert created and not created_again
    assert again.pk == first.pk
    other, created_other = services.export_job_create(
        job_type="notifications.outbox", filter_params={"status": "failed"}, requested_by="ana"
    )
    assert created_other and other.pk != first.pk
    assert ExportJob.objects.count() == 2
    assert len(no_enqueue) == 2


@pytest.mark.django_db
def test_a_finished_job_does_not_block_asking_again(no_enqueue):
    done = ExportJobFactory(status=JobStatus.COMPLETED, requested_by="ana")
    job, created = services.export_job_create(job_type=done.job_type, requested_by="ana")
    assert created and job.pk != done.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"job_type": "notifications.nope"}, "job_type"),
        ({"job_type": "notifications.outbox", "format": "pdf"}, "format"),
        ({"job_type": "notifications.outbox", "filter_params": {"colour": "red"}}, "filter_params.colour"),
        (
            {"job_type": "notifications.outbox", "filter_params": {"created_after": "yesterday"}},
            "filter_params.created_after",
        ),
        ({"job_type": "notifications.outbox", "datasets": ["notifications.channels"]}, "datasets"),
        ({"job_type": "snapshot"}, "datasets"),
        ({"job_type": "snapshot", "datasets": ["notifications.outbox", "nope"]}, "datasets"),
        (
            {"job_type": "snapshot", "datasets": ["notifications.outbox"], "filter_params": {"admin.log": {}}},
            "filter_params.admin.log",
        ),
        (
            {
                "job_type": "snapshot",
                "datasets": ["notifications.outbox"],
                "filter_params": {"notifications.outbox": {"x": 1}},
            },
            "filter_params.notifications.outbox.x",
        ),
    ],
)
def test_bad_requests_name_the_field_and_write_nothing(request_body, field, no_enqueue):
    with pytest.raises((InvalidExportRequest, UnknownDataset)) as caught:
        services.export_job_create(**request_body)
    assert field in caught.value.fields
    assert ExportJob.objects.count() == 0
    assert no_enqueue == []


# --- run ------------------------------------------------------------------------------
