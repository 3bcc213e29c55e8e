from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from maintenance.models import MaintenanceEvent, MaintenanceState
from maintenance.state import CACHE_KEY
from maintenance.tasks import expire_maintenance
from maintenance.tests.factories import MaintenanceStateFactory
from opsconsole.testing import celery_worker, wait_for


@pytest.mark.django_db
def test_expire_task_returns_to_normal_through_the_service():
    MaintenanceStateFactory(mode="maintenance", until=timezone.now() - timedelta(seconds=1))
    assert expire_maintenance.run() == "normal"
    assert expire_maintenance.run() is None
    assert MaintenanceEvent.objects.get().source == "schedule"


@pytest.mark.django_db
def test_expire_task_is_enqueued_only_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(expire_maintenance, "apply_async", lambda *a, **k: sent.append((a, k)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        expire_maintenance.delay_on_commit()
        assert sent == []
    assert len(callbacks) == 1


def test_beat_schedules_the_expire_task_by_its_registered_name():
    assert settings.CELERY_BEAT_SCHEDULE["maintenance-expire"]["task"] == expire_maintenance.name


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_returns_an_expired_window_to_normal():
    MaintenanceStateFactory(mode="read_only", until=timezone.now() - timedelta(seconds=1))
    extra = {}
    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        extra["OPSCONSOLE_CACHE_DIR"] = settings.CACHES["default"]["LOCATION"]
    with celery_worker(**extra) as worker:
        with transaction.atomic():
            expire_maintenance.delay_on_commit()
        wait_for(
            lambda: MaintenanceState.objects.get().mode == "normal",
            timeout=30,
            message="the worker to expire the window:\n" + "".join(getattr(worker, "output_lines", [])[-20:]),
        )
    event = MaintenanceEvent.objects.get()
    assert (event.from_mode, event.to_mode, event.source, event.actor) == ("read_only", "normal", "schedule", None)
    # The worker published the change to the shared cache on commit.
    assert cache.get(CACHE_KEY)["mode"] == "normal"
