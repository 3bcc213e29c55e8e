from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from maintenance.models import MaintenanceEvent
from maintenance.services import maintenance_set_mode
from opsconsole.celery import app
from opsconsole.testing import celery_worker, wait_for
from retention.models import DataRetentionPolicy, PurgeRun
from retention.tasks import purge_queued_runs, purge_scheduled
from retention.tests.factories import MaintenanceEventFactory, PolicyFactory


def test_the_daily_schedule_runs_the_purge_task_by_its_fixed_name():
    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge-daily"]
    assert entry["task"] == "retention.tasks.purge_scheduled"
    assert app.tasks[purge_scheduled.name].name == "retention.tasks.purge_scheduled"


@pytest.mark.django_db
def test_the_scheduled_task_purges_every_policy_with_the_schedule_trigger():
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=timezone.now() - timedelta(days=31))
    young = MaintenanceEventFactory(at=timezone.now() - timedelta(days=29))

    body = purge_scheduled()

    assert body["ok"] is True and body["deleted"] == 1
    assert list(MaintenanceEvent.objects.values_list("pk", flat=True)) == [young.pk]
    run = PurgeRun.objects.get()
    assert (run.trigger, run.actor_name, run.status) == ("schedule", "schedule", "completed")
    assert DataRetentionPolicy.objects.get().last_purged_at is not None


@pytest.mark.django_db
def test_the_scheduled_task_skips_quietly_while_read_only():
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=timezone.now() - timedelta(days=31))
    maintenance_set_mode(mode="read_only", reason="test")

    assert purge_scheduled() == {"ok": False, "refused": True}
    assert MaintenanceEvent.objects.count() == 2
    assert not PurgeRun.objects.exists()


@pytest.mark.django_db
def test_the_queued_runs_task_records_a_refusal_instead_of_raising():
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    run = PurgeRun.objects.create(category="maintenance.events", trigger="api", status="queued")
    maintenance_set_mode(mode="read_only", reason="test")

    body = purge_queued_runs(run_ids=[run.pk])

    assert "read_only" in body["refused"]
    run.refresh_from_db()
    assert run.status == "refused"


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_carries_out_a_purge_queued_through_the_api(api):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    PolicyFactory(category="admin.log", days_to_keep=30)
    for _ in range(5):
        MaintenanceEventFactory(at=timezone.now() - timedelta(days=60))
    young = MaintenanceEventFactory(at=timezone.now() - timedelta(days=1))

    with celery_worker():
        response = api.post(
            "/system/retention/purge", {"dry_run": False, "categories": ["maintenance.events"]}, format="json"
        )
        assert response.status_code == 202
        (run_id,) = response.json()["run_ids"]
        wait_for(
            lambda: PurgeRun.objects.get(pk=run_id).status not in ("queued", "running"),
            timeout=60,
            message="the worker to finish the purge",
        )

    run = PurgeRun.objects.get(pk=run_id)
    assert (run.status, run.matched, run.deleted, run.trigger) == ("completed", 5, 5, "api")
    assert list(MaintenanceEvent.objects.values_list("pk", flat=True)) == [young.pk]
    assert DataRetentionPolicy.objects.get(category="maintenance.events").last_purged_at is not None
