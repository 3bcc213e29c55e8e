"""The buttons on a retention policy's page: Preview purge, and Purge now with its confirmation."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from maintenance.models import MaintenanceEvent
from retention.models import PurgeRun
from retention.tests.factories import MaintenanceEventFactory, PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    policy = PolicyFactory(category="maintenance.events", days_to_keep=30)
    for _ in range(3):
        MaintenanceEventFactory(at=timezone.now() - timedelta(days=40))
    return policy


def action(policy, tool):
    return reverse("admin:retention_dataretentionpolicy_actions", kwargs={"pk": policy.pk, "tool": tool})


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_preview_from_the_policy_page_counts_and_deletes_nothing(staff_client, policy):
    page = staff_client.get(reverse("admin:retention_dataretentionpolicy_change", args=[policy.pk])).content.decode()
    assert action(policy, "preview_this") in page and action(policy, "purge_this") in page

    response = staff_client.post(action(policy, "preview_this"), follow=True)

    assert "Dry run: maintenance.events has 3 rows due" in " ".join(messages_of(response))
    assert MaintenanceEvent.objects.count() == 3
    assert PurgeRun.objects.get().dry_run is True


def test_purge_now_from_the_policy_page_confirms_then_queues(
    staff_client, policy, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("opsconsole.celery.app.send_task", lambda name, args=None, **options: sent.append(args))

    confirmation = staff_client.post(action(policy, "purge_this"))
    assert confirmation.status_code == 200
    content = confirmation.content.decode()
    assert "Yes, purge now" in content and f'action="{action(policy, "purge_this")}"' in content
    assert not PurgeRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(action(policy, "purge_this"), {"confirm": "yes"})

    run = PurgeRun.objects.get()
    assert (run.category, run.status, run.dry_run) == ("maintenance.events", "queued", False)
    assert sent == [[[run.pk]]]


def test_a_user_without_the_purge_permission_gets_403(staff_client_with, policy):
    editor = staff_client_with("view_dataretentionpolicy", "change_dataretentionpolicy")
    page = editor.get(reverse("admin:retention_dataretentionpolicy_change", args=[policy.pk])).content.decode()
    assert "/actions/" not in page
    assert editor.post(action(policy, "preview_this")).status_code == 403
    assert editor.post(action(policy, "purge_this"), {"confirm": "yes"}).status_code == 403
    assert not PurgeRun.objects.exists()


def test_purge_now_in_read_only_mode_is_refused_with_a_message(staff_client, policy, switch_mode):
    switch_mode("read_only")
    response = staff_client.post(action(policy, "purge_this"), {"confirm": "yes"}, follow=True)
    assert any(m.startswith("Purge now…: not done.") for m in messages_of(response))
    assert not PurgeRun.objects.exists()
    assert MaintenanceEvent.objects.filter(at__lt=timezone.now() - timedelta(days=30)).count() == 3
