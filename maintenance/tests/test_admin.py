from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from maintenance.models import MaintenanceEvent, MaintenanceState
from maintenance.services import maintenance_set_mode
from maintenance.tests.factories import MaintenanceEventFactory, UserFactory

pytestmark = pytest.mark.django_db

SCREEN = "/admin/maintenance/maintenancestate/"
EVENTS = "/admin/maintenance/maintenanceevent/"


@pytest.fixture
def admin_client_(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_screen_shows_the_current_mode_a_button_per_mode_and_the_history(admin_client_):
    maintenance_set_mode(mode="read_only", reason="db upgrade", message="Back at noon")
    response = admin_client_.get(SCREEN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="current-mode">read_only<' in html
    assert "Back at noon" in html
    for value in ("normal", "read_only", "maintenance"):
        assert f'name="mode" value="{value}"' in html
    assert "confirm(" in html
    assert "db upgrade" in html


def test_screen_changes_the_mode_through_the_service(admin_client_, staff_user):
    until = (timezone.localtime() + timedelta(hours=1)).replace(second=0, microsecond=0)
    response = admin_client_.post(
        SCREEN,
        {
            "mode": "maintenance",
            "reason": "moving racks",
            "message": "m",
            "until": until.strftime("%Y-%m-%dT%H:%M"),
            "retry_after": "90",
        },  # fmt: skip
        follow=True,
    )
    assert response.status_code == 200
    assert any("now maintenance" in m for m in messages_of(response))
    state = MaintenanceState.objects.get()
    assert (state.mode, state.until, state.retry_after, state.updated_by) == ("maintenance", until, 90, staff_user)
    event = MaintenanceEvent.objects.get()
    assert (event.source, event.actor, event.reason) == ("admin", staff_user, "moving racks")


def test_screen_needs_a_reason_and_says_so_in_the_message_bar(admin_client_):
    response = admin_client_.post(SCREEN, {"mode": "read_only", "reason": ""})
    assert response.status_code == 200
    assert any("reason" in m for m in messages_of(response))
    assert not MaintenanceEvent.objects.exists()


def test_screen_shows_service_refusals_in_the_message_bar(admin_client_):
    response = admin_client_.post(SCREEN, {"mode": "normal", "reason": "nothing"})
    assert any("already in mode normal" in m for m in messages_of(response))
    response = admin_client_.post(SCREEN, {"mode": "read_only", "reason": "x", "until": "2001-01-01T00:00"})
    assert any("until" in m for m in messages_of(response))
    response = admin_client_.post(SCREEN, {"mode": "sleep", "reason": "x"})
    assert any("normal, read_only, maintenance" in m for m in messages_of(response))
    assert not MaintenanceEvent.objects.exists()


def test_screen_stays_usable_in_maintenance_mode(admin_client_, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        maintenance_set_mode(mode="maintenance", reason="x")
    assert admin_client_.get(SCREEN).status_code == 200
    admin_client_.post(SCREEN, {"mode": "normal", "reason": "done"})
    assert MaintenanceState.objects.get().mode == "normal"


def test_viewers_without_change_permission_see_no_form_and_cannot_post():
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_maintenancestate"))
    client = Client()
    client.force_login(user)
    response = client.get(SCREEN)
    assert response.status_code == 200
    assert b'id="maintenance-form"' not in response.content
    assert client.post(SCREEN, {"mode": "read_only", "reason": "x"}).status_code == 403
    assert not MaintenanceEvent.objects.exists()


def test_admin_pages_carry_a_banner_while_not_normal(admin_client_, django_capture_on_commit_callbacks):
    assert b'id="maintenance-banner"' not in admin_client_.get("/admin/").content
    with django_capture_on_commit_callbacks(execute=True):
        maintenance_set_mode(mode="read_only", reason="x", message="Upgrading")
    html = admin_client_.get("/admin/").content.decode()
    assert 'id="maintenance-banner"' in html
    assert "Upgrading" in html
    assert "<title>Operations | OpsConsole</title>" in html


def test_event_log_is_read_only_with_filters_and_search(admin_client_):
    MaintenanceEventFactory(reason="kernel patch", to_mode="maintenance", actor_name="alice")
    MaintenanceEventFactory(reason="db upgrade", to_mode="read_only")
    response = admin_client_.get(EVENTS)
    assert response.status_code == 200
    assert b"add/" not in response.content.split(b'id="changelist"')[0].split(b"object-tools")[-1]
    assert response.context["cl"].has_filters
    assert [e.reason for e in admin_client_.get(EVENTS, {"q": "kernel"}).context["cl"].result_list] == ["kernel patch"]
    filtered = admin_client_.get(EVENTS, {"to_mode__exact": "read_only"}).context["cl"].result_list
    assert [e.reason for e in filtered] == ["db upgrade"]
    event = MaintenanceEvent.objects.first()
    change = admin_client_.get(f"{EVENTS}{event.pk}/change/")
    assert change.status_code == 200
    assert b'name="reason"' not in change.content
    assert admin_client_.post(f"{EVENTS}{event.pk}/delete/").status_code == 403
    assert admin_client_.get(f"{EVENTS}add/").status_code == 403
