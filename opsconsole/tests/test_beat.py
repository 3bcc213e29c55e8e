import pytest
from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from opsconsole.beat import Scheduler
from opsconsole.celery import app

# The scheduler closes old database connections as beat does, so no wrapping test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def start_beat() -> Scheduler:
    scheduler = Scheduler(app=app, lazy=True)
    scheduler.setup_schedule()
    return scheduler


def test_the_first_start_creates_every_schedule_of_the_settings():
    start_beat()
    assert set(settings.CELERY_BEAT_SCHEDULE) <= set(PeriodicTask.objects.values_list("name", flat=True))
    daily = PeriodicTask.objects.get(name="retention-purge-daily")
    assert (daily.task, daily.crontab.hour, daily.crontab.minute) == ("retention.tasks.purge_scheduled", "3", "30")


def test_a_schedule_edited_in_the_admin_survives_the_next_start():
    start_beat()
    daily = PeriodicTask.objects.get(name="retention-purge-daily")
    daily.crontab = CrontabSchedule.objects.create(minute="0", hour="5")
    daily.save()
    PeriodicTask.objects.filter(name="maintenance-expire").update(enabled=False)

    start_beat()

    daily.refresh_from_db()
    assert (daily.crontab.hour, daily.crontab.minute) == ("5", "0")
    assert PeriodicTask.objects.get(name="maintenance-expire").enabled is False


def test_tests_use_a_broker_folder_apart_from_make_runs(settings):
    """Else a `make run` worker on var/broker would take the tests' tasks (and run them on its database)."""
    assert settings.BROKER_FOLDER != settings.VAR_DIR / "broker"
