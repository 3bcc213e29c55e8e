import factory

from notifications.channels.webhook import generate_secret
from notifications.models import ChannelType, NotificationChannel, NotificationOutbox


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationChannel

    name = factory.Sequence(lambda n: f"channel-{n}")
    channel_type = ChannelType.LOG
    target = "ops"
    active = True
    config = factory.LazyFunction(dict)


class WebhookChannelFactory(ChannelFactory):
    channel_type = ChannelType.WEBHOOK
    target = "https://hooks.example.com/opsconsole"
    secret = factory.LazyFunction(generate_secret)


class OutboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationOutbox

    channel = factory.SubFactory(ChannelFactory)
    subject = factory.Sequence(lambda n: f"Disk almost full #{n}")
    body = "Disk /var is 91% full on web-1."
    payload = factory.LazyFunction(lambda: {"host": "web-1", "usage": 91})
