import factory
from django.contrib.auth import get_user_model

from maintenance.models import MaintenanceEvent, MaintenanceState, Mode


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"operator{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True


class MaintenanceStateFactory(factory.django.DjangoModelFactory):
    """The singleton row written directly (test set-up only; code goes through services)."""

    class Meta:
        model = MaintenanceState
        django_get_or_create = ("id",)

    id = MaintenanceState.SINGLETON_ID
    mode = Mode.READ_ONLY
    message = "Database upgrade"
    retry_after = 120


class MaintenanceEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaintenanceEvent

    from_mode = Mode.NORMAL
    to_mode = Mode.READ_ONLY
    reason = factory.Sequence(lambda n: f"reason {n}")
    source = "api"
