"""Create a webhook channel in the admin, send it a test notification, and see a real worker
deliver it to a local sink: the message `sent`, its attempt in the audit log, the signature valid."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from notifications.models import AttemptOutcome, NotificationChannel, NotificationOutbox, NotificationStatus
from opsconsole.testing import celery_worker, wait_for
from tests.e2e.conftest import admin_login

pytestmark = [pytest.mark.e2e, pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_webhook_channel_test_notification_is_delivered_and_audited(page, staff_user, screenshot, httpserver, settings):
    httpserver.expect_request("/hooks/ops", method="POST").respond_with_data("", status=204)
    target = httpserver.url_for("/hooks/ops")
    admin_login(page, username=staff_user.username)

    # The sink listens on 127.0.0.1: a private address, refused inline until allowed.
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = False
    page.goto("/admin/notifications/notificationchannel/add/")
    page.fill("#id_name", "ops-webhook")
    page.select_option("#id_channel_type", "webhook")
    page.fill("#id_target", target)
    page.click('input[name="_save"]')
    assert "https" in page.locator(".field-target .errorlist").inner_text()
    assert not NotificationChannel.objects.exists()
    screenshot("private-target-refused-inline")

    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    page.fill("#id_target", target)
    screenshot("channel-form")
    page.click('input[name="_save"]')
    page.wait_for_url(re.compile(r"/admin/notifications/notificationchannel/$"))
    assert "copy it now" in page.locator(".messagelist").inner_text()
    channel = NotificationChannel.objects.get(name="ops-webhook")
    assert channel.secret.startswith("whsec_")
    screenshot("channel-created-secret-shown-once")

    with celery_worker(OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE="1"):
        page.check(f'input[name="_selected_action"][value="{channel.pk}"]')
        page.select_option('select[name="action"]', "send_test")
        page.click('button[name="index"]')
        assert "Test notification queued for ops-webhook" in page.locator(".messagelist").inner_text()
        screenshot("test-queued")
        outbox = wait_for(
            lambda: NotificationOutbox.objects.filter(channel=channel, status=NotificationStatus.SENT).first(),
            timeout=60,
            message="the worker to deliver the test notification",
        )

    (request, _response), *others = httpserver.log
    assert others == []
    body = request.get_data(as_text=True)
    Webhook(channel.secret).verify(body, dict(request.headers))  # raises when the signature is wrong
    assert request.headers["webhook-id"] == outbox.message_id
    assert json.loads(body)["data"]["channel"] == "ops-webhook"
    attempt = outbox.attempt_log.get()
    assert (attempt.number, attempt.outcome, attempt.http_status) == (1, AttemptOutcome.SENT, 204)

    page.goto(f"/admin/notifications/notificationoutbox/?status__exact=sent&channel__id__exact={channel.pk}")
    page.click(f'#result_list a[href*="/{outbox.pk}/"]')
    inline = page.locator(".inline-group")
    # expect() waits for the page the click opened; inner_text() right away read it half-rendered under load.
    expect(inline).to_contain_text("Sent")
    expect(inline).to_contain_text("204")
    screenshot("sent-with-its-attempt")

    page.goto("/admin/")
    row = page.locator('#ops-channels tr[data-channel="ops-webhook"]')
    assert "1 / 1" in row.inner_text()
    assert "0.0 %" in row.inner_text()
    screenshot("dashboard-shows-the-delivery")
