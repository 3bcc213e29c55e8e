"""The channel form's options instead of a JSON box, and every admin page at 1400×900 with no
console error and no failed request."""

from __future__ import annotations

import re

import pytest

from notifications.models import NotificationChannel
from opsconsole.tests.factories import AttemptFactory, ChannelFactory, ExportJobFactory, PurgeRunFactory
from tests.e2e.conftest import admin_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_webhook_channel_is_added_with_header_rows_not_json(page, staff_user, screenshot, settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    admin_login(page, username=staff_user.username)
    page.goto("/admin/notifications/notificationchannel/add/")
    assert not page.locator('textarea[name="config"]').count()
    page.fill("#id_name", "ops-hook")
    page.select_option("#id_channel_type", "email")
    assert page.locator('[data-channel-type="email"]').is_visible()
    assert not page.locator('[data-channel-type="webhook"]').is_visible()
    page.select_option("#id_channel_type", "webhook")
    webhook = page.locator('[data-channel-type="webhook"]')
    assert webhook.is_visible() and not page.locator('[data-channel-type="email"]').is_visible()
    page.fill("#id_target", "http://127.0.0.1:9/hooks/ops")
    rows = webhook.locator("tbody tr")
    rows.nth(0).locator("input").nth(0).fill("X-Team")
    rows.nth(0).locator("input").nth(1).fill("ops")
    webhook.get_by_role("button", name="Add a header").click()
    webhook.get_by_role("button", name="Add a header").click()
    assert rows.count() == 4
    rows.nth(3).locator("input").nth(0).fill("Authorization")
    rows.nth(3).locator("input").nth(1).fill("Bearer t0ken")
    screenshot("header-rows")
    page.click('input[name="_save"]')
    page.wait_for_url(re.compile(r"/admin/notifications/notificationchannel/$"))
    channel = NotificationChannel.objects.get(name="ops-hook")
    assert channel.config == {"headers": {"X-Team": "ops", "Authorization": "Bearer t0ken"}}

    page.goto(f"/admin/notifications/notificationchannel/{channel.pk}/change/")
    assert "t0ken" not in page.content()
    screenshot("change-form-masks-the-header")
    assert page.console_errors == []


def test_every_admin_page_loads_without_a_console_error_or_a_failed_request(page, staff_user, screenshot):
    page.set_viewport_size({"width": 1400, "height": 900})
    failed: list[str] = []
    page.on("response", lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"))
    AttemptFactory(outbox__channel=ChannelFactory())
    ExportJobFactory()
    PurgeRunFactory()
    admin_login(page, username=staff_user.username)

    links = page.eval_on_selector_all(
        "#content-main a[href^='/admin/']", "links => [...new Set(links.map(link => link.getAttribute('href')))]"
    )
    pages = sorted({link for link in links if link.endswith("/") and "/logout" not in link})
    assert len(pages) > 15
    for path in pages:
        page.goto(path)
        # a change page of the first row of each list, too
        first = page.locator("#result_list tbody tr th a").first
        if first.count():
            first.click()
            page.wait_for_load_state()
    assert page.request.get("/favicon.ico").ok
    assert failed == [] and page.console_errors == []
    screenshot("last-page")


def test_the_retention_policy_form_fits_its_menu_and_fills_in_the_default_period(page, staff_user, screenshot):
    from retention.registry import registry

    page.set_viewport_size({"width": 1400, "height": 900})
    admin_login(page, username=staff_user.username)
    page.goto("/admin/retention/dataretentionpolicy/add/")
    menu = page.locator("#id_category")
    content = page.locator("#content-main").bounding_box()
    box = menu.bounding_box()
    assert box["x"] + box["width"] <= content["x"] + content["width"]  # the long labels do not overflow
    categories = list(registry.all())
    assert page.input_value("#id_days_to_keep") == str(categories[0].default_days_to_keep)
    other = next(c for c in categories if c.default_days_to_keep != categories[0].default_days_to_keep)
    menu.select_option(other.name)
    assert page.input_value("#id_days_to_keep") == str(other.default_days_to_keep)
    page.fill("#id_days_to_keep", "12")  # typed by hand: picking another category keeps it
    menu.select_option(categories[0].name)
    assert page.input_value("#id_days_to_keep") == "12"
    screenshot("policy-form")
    assert page.console_errors == []
