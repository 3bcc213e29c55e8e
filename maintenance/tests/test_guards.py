import pytest

from maintenance.exceptions import WritesBlocked
from maintenance.guards import writes_allowed, writes_guarded
from maintenance.services import maintenance_set_mode

pytestmark = pytest.mark.django_db


@writes_guarded
def add_one(box: list) -> int:
    box.append(1)
    return len(box)


def test_a_guarded_write_runs_in_normal_mode():
    assert add_one([]) == 1


def test_a_guarded_write_is_refused_outside_normal_mode_and_changes_nothing():
    maintenance_set_mode(mode="read_only", reason="migrating")
    box: list = []
    with pytest.raises(WritesBlocked) as refusal:
        add_one(box)
    assert box == [] and refusal.value.mode == "read_only"


def test_the_allow_list_lets_a_named_write_through():
    maintenance_set_mode(mode="maintenance", reason="upgrade")
    with writes_allowed("expiring the mode"):
        assert add_one([]) == 1
    with pytest.raises(WritesBlocked):
        add_one([])


def test_a_refusal_asks_to_retry_no_later_than_the_mode_ends():
    from datetime import timedelta

    from django.utils import timezone

    maintenance_set_mode(mode="read_only", reason="x", retry_after=3600, until=timezone.now() + timedelta(seconds=90))

    with pytest.raises(WritesBlocked) as refusal:
        add_one([])

    assert 1 <= refusal.value.retry_after <= 90
    assert refusal.value.extra["retry_after"] == refusal.value.retry_after  # what the API's Retry-After says
