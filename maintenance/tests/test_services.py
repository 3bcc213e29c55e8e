import pytest

from maintenance.models import MaintenanceEvent
from maintenance.selectors import current_mode
from maintenance.services import maintenance_set_mode

pytestmark = pytest.mark.django_db


def test_mode_change_is_recorded_with_reason():
    maintenance_set_mode(mode="read_only", reason="db upgrade", source="command")
    assert current_mode() == "read_only"
    event = MaintenanceEvent.objects.get()
    assert (event.from_mode, event.to_mode, event.reason) == ("normal", "read_only", "db upgrade")


def test_fresh_install_is_normal():
    assert current_mode() == "normal"
