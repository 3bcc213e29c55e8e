"""Switch the service to read_only from the maintenance screen, see the admin turn read-only (no
Save buttons, a notice saying why), a form typed before the switch come back unsaved with what
was typed, then switch back and save the same form."""

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


def _save_buttons(page) -> int:
    return page.locator('input[name="_save"], input[name="_continue"], input[name="_addanother"]').count()


def test_read_only_turns_the_admin_read_only_and_keeps_a_refused_form_until_switched_back(page, staff_user, screenshot):
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

    # A form opened (and typed in) before the switch, in a second tab.
    form = page.context.new_page()
    form.goto("/admin/auth/group/add/")
    assert _save_buttons(form) == 3
    form.fill("#id_name", "on-call")

    _switch_mode(page, to="read_only", reason="e2e: database upgrade")
    assert "Maintenance mode is now read_only" in page.locator(".messagelist").inner_text()
    assert page.locator("#maintenance-banner").is_visible()
    screenshot("switched-to-read-only")

    with form.expect_navigation() as navigation:
        form.click('input[name="_save"]')
    assert navigation.value.status == 200  # the form again, not a bare 503
    assert "Not saved. The console is in read_only mode" in form.locator(".errorlist.nonfield").inner_text()
    assert form.input_value("#id_name") == "on-call"
    assert not Group.objects.filter(name="on-call").exists()
    screenshot("refused-form-kept", tab=form)

    page.goto("/admin/")
    assert page.locator("#ops-maintenance [data-mode]").get_attribute("data-mode") == "read_only"
    assert page.locator("#maintenance-banner").is_visible()
    screenshot("dashboard-read-only")

    page.goto("/admin/auth/group/add/")
    assert _save_buttons(page) == 0
    assert "changes are refused" in page.locator("#readonly-notice").inner_text()
    assert page.locator("#id_name").is_disabled()
    screenshot("add-page-read-only")

    page.goto("/admin/maintenance/maintenancestate/")
    _switch_mode(page, to="normal", reason="e2e: upgrade done")
    assert not page.locator("#maintenance-banner").count()
    screenshot("switched-back-to-normal")

    with form.expect_navigation() as navigation:
        form.click('input[name="_save"]')  # the kept form, saved again
    assert navigation.value.status == 200
    assert Group.objects.filter(name="on-call").exists()
    assert list(MaintenanceEvent.objects.order_by("id").values_list("to_mode", "reason", "actor_name")) == [
        ("read_only", "e2e: database upgrade", staff_user.username),
        ("normal", "e2e: upgrade done", staff_user.username),
    ]
    screenshot("write-accepted")
