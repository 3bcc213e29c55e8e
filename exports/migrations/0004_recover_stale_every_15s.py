"""Existing installs: run the stale-export sweep every 15 s instead of 60 s.

opsconsole.beat creates a schedule from settings only when none of that name exists, so an
install made before the sweep went to 15 s would keep its 60 s row. Only an untouched row
(still every 60 seconds) is changed: an interval staff chose in the admin stays theirs.
"""

from django.db import migrations

NAME = "exports-recover-stale"


def to_interval(apps, old: int, new: int) -> None:
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    task = PeriodicTask.objects.filter(
        name=NAME, interval__every=old, interval__period="seconds"
    ).first()
    if task is None:
        return
    task.interval, _ = IntervalSchedule.objects.get_or_create(every=new, period="seconds")
    task.save(update_fields=["interval"])


def forwards(apps, schema_editor):
    to_interval(apps, 60, 15)


def backwards(apps, schema_editor):
    to_interval(apps, 15, 60)


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0003_job_note"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
