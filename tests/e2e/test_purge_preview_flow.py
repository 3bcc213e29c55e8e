"""Preview a purge from the retention policies: rows due are counted, nothing is deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import NotificationOutbox, NotificationStatus
from opsconsole.tests.factories import OutboxFactory, PolicyFactory
from retention.models import PurgeRun
from tests.e2e.conftest import admin_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_purge_preview_counts_the_rows_due_and_deletes_nothing(page, staff_user, screenshot):
    policy = PolicyFactory(category="notifications.outbox", days_to_keep=30)
    old = OutboxFactory.create_batch(7, status=NotificationStatus.SENT)
    NotificationOutbox.objects.filter(pk__in=[o.pk for o in old]).update(created_at=timezone.now() - timedelta(days=40))
    OutboxFactory.create_batch(3, status=NotificationStatus.SENT)  # recent: kept
    admin_login(page, username=staff_user.username)
    assert page.locator('#ops-retention tr[data-category="notifications.outbox"] td').nth(2).inner_text() == "7"

    page.goto("/admin/retention/dataretentionpolicy/")
    screenshot("policies")
    page.check(f'input[name="_selected_action"][value="{policy.pk}"]')
    page.select_option('select[name="action"]', "preview_dry_run")
    page.click('button[name="index"]')
    page.wait_for_selector(".messagelist")

    assert "Dry run: notifications.outbox has 7 rows due" in page.locator(".messagelist").inner_text()
    assert NotificationOutbox.objects.count() == 10
    run = PurgeRun.objects.get()
    assert (run.dry_run, run.matched, run.deleted, run.actor_name) == (True, 7, 0, staff_user.username)
    screenshot("preview-result")

    page.goto("/admin/")
    last_run = page.locator("#ops-purge-runs tbody tr").first
    assert "preview" in last_run.inner_text()
    assert "notifications.outbox" in last_run.inner_text()
    screenshot("dashboard-lists-the-preview")
