"""factory_boy factories for export tests (and the rows they export)."""

import hashlib
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from exports.models import ExportJob, JobStatus
from notifications.models import NotificationAttempt, NotificationChannel, NotificationOutbox


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationChannel

    name = factory.Sequence(lambda n: f"channel-{n}")
    channel_type = "log"
    target = "ops"
    config = factory.LazyFunction(lambda: {"level": "info"})


class OutboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationOutbox

    channel = factory.SubFactory(ChannelFactory)
    subject = factory.Sequence(lambda n: f"subject {n}")
    body = "body"
    payload = factory.LazyFunction(lambda: {"n": 1})
    status = "sent"


class AttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationAttempt

    outbox = factory.SubFactory(OutboxFactory)
    number = 1
    started_at = factory.Faker("date_time", tzinfo=__import__("datetime").UTC)
    outcome = "sent"


class ExportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportJob

    job_type = "notifications.outbox"
    format = "csv"
    filter_params = factory.LazyFunction(dict)
    requested_by = "ops"


def completed_job(content=b"id\n1\n", **fields):
    """A completed job whose file is in storage, as a worker leaves it."""
    job = ExportJobFactory(status=JobStatus.COMPLETED, **fields)
    name = default_storage.save(f"exports/{job.pk}/{job.download_name}", ContentFile(content))
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        file=name,
        file_size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        completed_at=now,
        expires_at=now + timedelta(days=7),
        storage_url=job.download_path,
    )
    job.refresh_from_db()
    return job
