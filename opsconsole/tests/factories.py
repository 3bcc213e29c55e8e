"""factory_boy factories for the dashboard's tests: rows of every app, made the way the engines make them."""

from __future__ import annotations

import factory
from django.utils import timezone

from exports.models import ExportJob, JobStatus
from notifications.models import (
    AttemptOutcome,
    ChannelType,
    NotificationAttempt,
    NotificationChannel,
    NotificationOutbox,
    NotificationStatus,
)
from retention.models import DataRetentionPolicy, PurgeRun, PurgeStatus, PurgeTrigger


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationChannel

    name = factory.Sequence(lambda n: f"channel-{n}")
    channel_type = ChannelType.LOG
    target = "ops"


class OutboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationOutbox

    channel = factory.SubFactory(ChannelFactory)
    subject = factory.Sequence(lambda n: f"message {n}")
    body = "disk almost full"
    status = NotificationStatus.PENDING


class AttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationAttempt

    outbox = factory.SubFactory(OutboxFactory)
    number = 1
    started_at = factory.LazyFunction(timezone.now)
    duration_ms = 12
    outcome = AttemptOutcome.SENT


class ExportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportJob

    job_type = "notifications.outbox"
    format = "csv"
    status = JobStatus.PENDING
    requested_by = "ops"


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataRetentionPolicy

    category = factory.Sequence(lambda n: f"category.{n}")
    days_to_keep = 30


class PurgeRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurgeRun

    category = "notifications.outbox"
    trigger = PurgeTrigger.SCHEDULE
    status = PurgeStatus.COMPLETED
    matched = 10
    deleted = 10
    finished_at = factory.LazyFunction(timezone.now)


def attempts_at(*, at, outcome: str, count: int, channel=None) -> None:
    """`count` delivery attempts started at `at` with `outcome`, each on a notification of its own."""
    for _ in range(count):
        outbox = OutboxFactory(channel=channel) if channel else OutboxFactory()
        AttemptFactory(outbox=outbox, started_at=at, outcome=outcome)
