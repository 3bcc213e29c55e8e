"""The exports families of /metrics: jobs by status and the rows completed exports wrote."""

import pytest

from exports import services
from exports.models import JobStatus
from exports.tests.factories import OutboxFactory
from opsconsole.metrics.testing import sample, scrape

# The export reads its rows over a connection of its own: they must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inline(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)


def export(requested_by):
    job, _ = services.export_job_create(
        job_type="notifications.outbox", format="csv", filter_params={}, requested_by=requested_by
    )
    return job


def test_completed_exports_add_their_rows_and_jobs_are_counted_by_status(anon_api, inline):
    OutboxFactory.create_batch(4)
    first = services.export_job_run(job_id=export("a").pk)
    export("b")  # still pending
    families = scrape(anon_api)

    assert first.status == JobStatus.COMPLETED and first.rows_written == 4
    assert sample(families, "opsconsole_export_rows_total") == 4
    assert sample(families, "opsconsole_export_jobs", status="completed") == 1
    assert sample(families, "opsconsole_export_jobs", status="pending") == 1
    assert sample(families, "opsconsole_export_jobs", status="running") == 0


def test_a_cancelled_export_adds_no_rows(anon_api, inline, monkeypatch):
    OutboxFactory.create_batch(3)
    job = export("c")
    real_finish = services.run.Attempt.finish

    def cancelled_meanwhile(self, status, **fields):
        if status == JobStatus.COMPLETED:
            services.export_job_cancel(job=job)
        return real_finish(self, status, **fields)

    monkeypatch.setattr(services.run.Attempt, "finish", cancelled_meanwhile)
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert sample(scrape(anon_api), "opsconsole_export_rows_total") == 0
