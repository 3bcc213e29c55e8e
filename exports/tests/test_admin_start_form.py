"""The export form: filters built from each dataset's declared filters, one Start button."""

import pytest

from exports import services
from exports.models import ExportJob
from exports.registry import all_datasets
from exports.tests.factories import completed_job

pytestmark = pytest.mark.django_db

ADD = "/admin/exports/exportjob/add/"


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


def test_the_form_has_a_group_of_filters_per_dataset_and_no_json_box(staff_client):
    html = staff_client.get(ADD).content.decode()
    assert "<textarea" not in html.split('id="id_note"')[0]  # only the note is free text
    for dataset in all_datasets():
        assert f'data-dataset="{dataset.name}"' in html
    # a choice is a menu, several choices checkboxes, a date range two pickers, yes/no a menu
    assert '<select name="filter_params__notifications.attempts__outcome"' in html
    assert 'type="checkbox" name="filter_params__notifications.outbox__status" value="sent"' in html
    assert 'type="datetime-local" name="filter_params__notifications.outbox__created_after"' in html
    assert 'type="datetime-local" name="filter_params__notifications.outbox__created_before"' in html
    assert '<select name="filter_params__notifications.channels__active"' in html
    assert "exports/start_form.js" in html


def test_one_start_export_button_on_the_add_page(staff_client):
    html = staff_client.get(ADD).content.decode()
    assert 'value="Start export"' in html
    assert 'name="_addanother"' not in html and 'name="_continue"' not in html


def test_a_finished_jobs_page_has_no_save_buttons_and_no_dataset_list_unless_a_snapshot(staff_client):
    job = completed_job()
    html = staff_client.get(f"/admin/exports/exportjob/{job.pk}/change/").content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "field-datasets" not in html
    snapshot = completed_job(job_type="snapshot", datasets=["admin.log"])
    assert "field-datasets" in staff_client.get(f"/admin/exports/exportjob/{snapshot.pk}/change/").content.decode()


def test_date_range_and_choices_become_the_apis_filter_params(staff_client, enqueued):
    response = staff_client.post(
        ADD,
        {
            "job_type": "notifications.outbox",
            "format": "json",
            "filter_params__notifications.outbox__status": ["failed", "sent"],
            "filter_params__notifications.outbox__channel_type": "webhook",
            "filter_params__notifications.outbox__created_after": "2026-11-01T00:00",
            "filter_params__notifications.outbox__created_before": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    job = ExportJob.objects.get()
    assert job.filter_params["status"] == ["failed", "sent"]
    assert job.filter_params["channel_type"] == "webhook"
    assert job.filter_params["created_after"].startswith("2026-11-01")
    assert "created_before" not in job.filter_params
    assert enqueued == [job.pk]


def test_a_snapshot_takes_the_filters_of_each_dataset_ticked(staff_client):
    response = staff_client.post(
        ADD,
        {
            "job_type": "snapshot",
            "format": "csv",
            "datasets": ["maintenance.events", "notifications.outbox"],
            "filter_params__maintenance.events__to_mode": "read_only",
            "filter_params__retention.purge_runs__status": "completed",  # not ticked: not read
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    job = ExportJob.objects.get()
    assert job.filter_params == {"maintenance.events": {"to_mode": "read_only"}}
