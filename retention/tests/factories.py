"""Factories for the rows the purge engine works on, with a helper to backdate them."""

from __future__ import annotations

from datetime import datetime

import factory
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.utils import timezone

from exports.models import ExportJob
from maintenance.models import MaintenanceEvent
from notifications.models import NotificationAttempt, NotificationChannel, NotificationOutbox
from retention.models import DataRetentionPolicy, PurgeRun


def backdate(obj, when: datetime, *, field: str = "created_at"):
    """Set an auto_now_add column after creation (create() would overwrite it)."""
    type(obj)._default_manager.filter(pk=obj.pk).update(**{field: when})
    obj.refresh_from_db()
    return obj


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = "log-author"


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationChannel

    name = factory.Sequence(lambda n: f"channel-{n}")
    channel_type = "log"
    target = "ops"


class OutboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationOutbox

    channel = factory.SubFactory(ChannelFactory)
    subject = "Disk almost full"
    body = "db-1 is at 91%"
    status = "sent"

    @classmethod
    def _create(cls, model_class, *args, created_at=None, **kwargs):
        obj = super()._create(model_class, *args, **kwargs)
        return backdate(obj, created_at) if created_at else obj


class AttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationAttempt

    outbox = factory.SubFactory(OutboxFactory)
    number = factory.Sequence(lambda n: n + 1)
    started_at = factory.LazyFunction(timezone.now)
    outcome = "sent"


class ExportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportJob

    job_type = "notifications.outbox"
    format = "csv"
    status = "completed"

    @classmethod
    def _create(cls, model_class, *args, created_at=None, **kwargs):
        obj = super()._create(model_class, *args, **kwargs)
        return backdate(obj, created_at) if created_at else obj


class MaintenanceEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaintenanceEvent

    from_mode = "normal"
    to_mode = "read_only"
    reason = "db upgrade"

    @classmethod
    def _create(cls, model_class, *args, at=None, **kwargs):
        obj = super()._create(model_class, *args, **kwargs)
        return backdate(obj, at, field="at") if at else obj


class LogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LogEntry

    user = factory.SubFactory(UserFactory)
    action_flag = 1
    object_repr = "something"
    change_message = ""

    @classmethod
    def _create(cls, model_class, *args, action_time=None, **kwargs):
        obj = super()._create(model_class, *args, **kwargs)
        return backdate(obj, action_time, field="action_time") if action_time else obj


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataRetentionPolicy
        django_get_or_create = ("category",)

    category = "maintenance.events"
    days_to_keep = 30
    enabled = True
    legal_hold = False


class PurgeRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurgeRun

    category = "maintenance.events"
    trigger = "command"
    status = "completed"
