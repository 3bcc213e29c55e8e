"""Switch the service to read_only from the maintenance screen, see a write refused with the
maintenance page, switch back and see the same write go through."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group

from maintenance.models import MaintenanceEvent
from tests.e2e.conftest import admin_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _switch_mode(page, *, to: str, reason: str) -> None:
    page.fill("#id_reason", reason)
    page.once("dialog", lambda dialog: dialog.accept())  # the screen asks "Switch the whole service to …?"
    page.click(f'#maintenance-form button[name="mode"][value="{to}"]')
    page.wait_for_selector(f'#current-mode:text-is("{to}")')


def _try_to_add_group(page, name: str):
    page.goto("/admin/auth/group/add/")
    page.fill("#id_name", name)
    with page.expect_navigation() as navigation:
        page.click('input[name="_save"]')
    return navigation.value


def test_read_only_refuses_admin_writes_with_the_maintenance_page_until_switched_back(page, staff_user, screenshot):
    admin_login(page, username=staff_user.username)
    assert page.locator("#ops-maintenance [data-mode]").get_attribute("data-mode") == "normal"
    page.click("#ops-maintenance-link")
    page.wait_for_url(re.compile(r"/admin/maintenance/maintenancestate/$"))
    screenshot("maintenance-screen")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click('#maintenance-form button[name="mode"][value="read_only"]')
    assert "reason" in page.locator(".messagelist .error").inner_text()
    assert page.locator("#current-mode").inner_text() == "normal"
    screenshot("switch-without-reason-refused")

    _switch_mode(page, to="read_only", reason="e2e: database upgrade")
    assert "Maintenance mode is now Read-only" in page.locator(".messagelist").inner_text()
    assert page.locator("#maintenance-banner").is_visible()
    screenshot("switched-to-read-only")

    page.goto("/admin/")
    assert page.locator("#ops-maintenance [data-mode]").get_attribute("data-mode") == "read_only"
    assert page.locator("#maintenance-banner").is_visible()
    screenshot("dashboard-read-only")

    refused = _try_to_add_group(page, "on-call")
    assert refused.status == 503
    assert refused.headers.get("retry-after")
    assert "Changes are paused" in page.locator("h1").inner_text()
    assert not Group.objects.filter(name="on-call").exists()
    screenshot("write-refused")

    page.goto("/admin/maintenance/maintenancestate/")
    _switch_mode(page, to="normal", reason="e2e: upgrade done")
    assert not page.locator("#maintenance-banner").count()
    screenshot("switched-back-to-normal")

    accepted = _try_to_add_group(page, "on-call")
    assert accepted.status == 200
    assert Group.objects.filter(name="on-call").exists()
    assert list(MaintenanceEvent.objects.order_by("id").values_list("to_mode", "reason", "actor_name")) == [
        ("read_only", "e2e: database upgrade", staff_user.username),
        ("normal", "e2e: upgrade done", staff_user.username),
    ]
    screenshot("write-accepted")
