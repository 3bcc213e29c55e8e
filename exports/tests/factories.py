"""factory_boy factories for export tests (and the rows they export)."""

import factory
from django.contrib.auth import get_user_model

from exports.models import ExportJob
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
