"""Existing deployments: sweeps queued while no worker ran expire after a minute.

opsconsole.beat creates a periodic task only when it is missing, so the `expire_seconds`
now in CELERY_BEAT_SCHEDULE reaches only new databases; this sets it on the row that
earlier versions created, unless staff set an expiry of their own.
"""

from django.db import migrations

SWEEP = "notifications-dispatch-due"


def set_expiry(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=SWEEP, expire_seconds__isnull=True, expires__isnull=True).update(
        expire_seconds=60
    )


def unset_expiry(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=SWEEP, expire_seconds=60).update(expire_seconds=None)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_rolling_webhook_secret"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(set_expiry, unset_expiry)]
