from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from maintenance.exceptions import InvalidMaintenanceChange, ModeUnchanged
from maintenance.models import MaintenanceEvent, MaintenanceState
from maintenance.selectors import current_mode
from maintenance.services import maintenance_expire, maintenance_set_mode
from maintenance.tests.factories import MaintenanceStateFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_mode_change_is_recorded_with_reason_actor_and_source():
    user = UserFactory(username="alice")
    maintenance_set_mode(mode="read_only", reason="db upgrade", actor=user, source="api", retry_after=60)
    assert current_mode() == "read_only"
    event = MaintenanceEvent.objects.get()
    assert (event.from_mode, event.to_mode, event.reason) == ("normal", "read_only", "db upgrade")
    assert (event.actor, event.actor_name, event.source, event.retry_after) == (user, "alice", "api", 60)
    assert MaintenanceState.objects.get().updated_by == user


def test_fresh_install_is_normal():
    assert current_mode() == "normal"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("normal", "read_only"),
        ("normal", "maintenance"),
        ("read_only", "maintenance"),
        ("read_only", "normal"),
        ("maintenance", "read_only"),
        ("maintenance", "normal"),
    ],
)
def test_every_transition_between_distinct_modes_is_allowed(first, second):
    if first != "normal":
        maintenance_set_mode(mode=first, reason="set up")
    maintenance_set_mode(mode=second, reason="change")
    assert MaintenanceState.objects.get().mode == second
    assert MaintenanceEvent.objects.order_by("-id").values_list("from_mode", "to_mode").first() == (first, second)


def test_same_mode_with_nothing_new_is_a_conflict_and_writes_nothing():
    maintenance_set_mode(mode="read_only", reason="first", message="upgrade")
    with pytest.raises(ModeUnchanged, match="already in mode read_only"):
        maintenance_set_mode(mode="read_only", reason="again", message="upgrade")
    assert MaintenanceEvent.objects.count() == 1


def test_switching_to_normal_while_normal_is_a_conflict():
    with pytest.raises(ModeUnchanged):
        maintenance_set_mode(mode="normal", reason="nothing to do")
    assert not MaintenanceEvent.objects.exists()


def test_same_mode_with_a_new_message_is_an_update_recorded_as_an_event():
    maintenance_set_mode(mode="read_only", reason="first", message="upgrade")
    maintenance_set_mode(mode="read_only", reason="more detail", message="upgrade until 10:00")
    event = MaintenanceEvent.objects.order_by("-id").first()
    assert (event.from_mode, event.to_mode, event.message) == ("read_only", "read_only", "upgrade until 10:00")
    assert MaintenanceState.objects.get().message == "upgrade until 10:00"


def test_same_mode_with_a_new_retry_after_is_an_update():
    maintenance_set_mode(mode="maintenance", reason="first", retry_after=60)
    maintenance_set_mode(mode="maintenance", reason="longer", retry_after=600)
    assert MaintenanceState.objects.get().retry_after == 600
    assert MaintenanceEvent.objects.count() == 2


def test_omitted_retry_after_keeps_the_current_value():
    maintenance_set_mode(mode="read_only", reason="first", retry_after=45)
    maintenance_set_mode(mode="maintenance", reason="second")
    assert MaintenanceState.objects.get().retry_after == 45


def test_unknown_mode_is_refused_listing_the_modes():
    with pytest.raises(InvalidMaintenanceChange) as info:
        maintenance_set_mode(mode="readonly", reason="typo")
    assert "normal, read_only, maintenance" in info.value.fields["mode"][0]
    assert not MaintenanceEvent.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(reason):
    with pytest.raises(InvalidMaintenanceChange) as info:
        maintenance_set_mode(mode="read_only", reason=reason)
    assert "reason" in info.value.fields
    assert not MaintenanceState.objects.exists()


def test_until_in_the_past_is_refused():
    with pytest.raises(InvalidMaintenanceChange) as info:
        maintenance_set_mode(mode="read_only", reason="r", until=timezone.now() - timedelta(seconds=1))
    assert "until" in info.value.fields


def test_until_with_normal_mode_is_refused():
    maintenance_set_mode(mode="read_only", reason="r")
    with pytest.raises(InvalidMaintenanceChange) as info:
        maintenance_set_mode(mode="normal", reason="r", until=timezone.now() + timedelta(hours=1))
    assert "until" in info.value.fields


@pytest.mark.parametrize("retry_after", [-1, 10**9, "60", True])
def test_retry_after_out_of_range_is_refused(retry_after):
    with pytest.raises(InvalidMaintenanceChange) as info:
        maintenance_set_mode(mode="read_only", reason="r", retry_after=retry_after)
    assert "retry_after" in info.value.fields


def test_state_returns_to_normal_when_until_passes():
    start = timezone.now()
    maintenance_set_mode(mode="maintenance", reason="window", until=start + timedelta(minutes=5))
    assert maintenance_expire(now=start + timedelta(minutes=4)) is None
    state = maintenance_expire(now=start + timedelta(minutes=5, seconds=1))
    assert state is not None and state.mode == "normal" and state.until is None
    event = MaintenanceEvent.objects.order_by("-id").first()
    assert (event.from_mode, event.to_mode, event.actor, event.source) == ("maintenance", "normal", None, "schedule")


def test_expire_is_idempotent():
    MaintenanceStateFactory(mode="read_only", until=timezone.now() - timedelta(seconds=5))
    assert maintenance_expire() is not None
    assert maintenance_expire() is None
    assert MaintenanceEvent.objects.count() == 1


def test_readers_treat_an_expired_until_as_normal_before_the_schedule_runs():
    start = timezone.now()
    maintenance_set_mode(mode="read_only", reason="short", until=start + timedelta(seconds=30))
    assert current_mode() == "read_only"
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert current_mode() == "normal"
    assert MaintenanceState.objects.get().mode == "read_only"


def test_a_change_after_an_expired_until_records_the_automatic_return_first():
    MaintenanceStateFactory(mode="read_only", until=timezone.now() - timedelta(seconds=5))
    maintenance_set_mode(mode="maintenance", reason="next window")
    assert list(MaintenanceEvent.objects.order_by("id").values_list("from_mode", "to_mode", "source")) == [
        ("read_only", "normal", "schedule"),
        ("normal", "maintenance", ""),
    ]
