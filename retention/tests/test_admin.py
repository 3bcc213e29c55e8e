from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from maintenance.models import MaintenanceEvent
from maintenance.services import maintenance_set_mode
from retention.models import DataRetentionPolicy, PurgeRun
from retention.tests.factories import MaintenanceEventFactory, PolicyFactory, PurgeRunFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/retention/dataretentionpolicy/"


@pytest.fixture
def policy_with_due_rows():
    policy = PolicyFactory(category="maintenance.events", days_to_keep=30)
    for _ in range(3):
        MaintenanceEventFactory(at=timezone.now() - timedelta(days=40))
    MaintenanceEventFactory(at=timezone.now() - timedelta(days=2))
    return policy


def test_policy_list_shows_the_rows_due_now_and_the_last_purge(admin_client, policy_with_due_rows):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    content = response.content.decode()
    assert '<td class="field-rows_due_now">3</td>' in content
    assert "field-last_purged_at" in content


def test_preview_action_reports_the_rows_due_and_deletes_nothing(admin_client, policy_with_due_rows):
    response = admin_client.post(
        CHANGELIST, {"action": "preview_dry_run", ACTION_CHECKBOX_NAME: [policy_with_due_rows.pk]}, follow=True
    )

    assert "Dry run: maintenance.events has 3 rows due" in response.content.decode()
    assert MaintenanceEvent.objects.count() == 4
    run = PurgeRun.objects.get()
    assert (run.trigger, run.dry_run, run.matched) == ("admin", True, 3)


def test_purge_now_asks_for_confirmation_first_and_queues_nothing(admin_client, policy_with_due_rows):
    response = admin_client.post(CHANGELIST, {"action": "purge_now", ACTION_CHECKBOX_NAME: [policy_with_due_rows.pk]})

    assert response.status_code == 200
    content = response.content.decode()
    assert "Yes, purge now" in content
    assert "<td>3</td>" in content
    assert not PurgeRun.objects.exists()


def test_confirmed_purge_now_queues_a_run_for_a_worker(
    admin_client, policy_with_due_rows, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("opsconsole.celery.app.send_task", lambda name, args=None, **options: sent.append((name, args)))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {"action": "purge_now", "confirm": "yes", ACTION_CHECKBOX_NAME: [policy_with_due_rows.pk]},
            follow=True,
        )

    run = PurgeRun.objects.get()
    assert (run.trigger, run.status, run.actor.username) == ("admin", "queued", "admin")
    assert sent == [("retention.tasks.purge_queued_runs", [[run.pk]])]
    assert f"runs #{run.pk}" in response.content.decode()


def test_purge_now_in_read_only_mode_shows_the_refusal(admin_client, policy_with_due_rows, without_shield):
    maintenance_set_mode(mode="read_only", reason="test")
    response = admin_client.post(
        CHANGELIST,
        {"action": "purge_now", "confirm": "yes", ACTION_CHECKBOX_NAME: [policy_with_due_rows.pk]},
        follow=True,
    )
    assert "maintenance mode is &#x27;read_only&#x27;" in response.content.decode()
    assert not PurgeRun.objects.exists()


def test_a_policy_is_added_through_the_service_for_a_registered_category_only(admin_client):
    bad = admin_client.post(f"{CHANGELIST}add/", {"category": "nope", "days_to_keep": 30, "enabled": "on"})
    assert bad.status_code == 200
    assert not DataRetentionPolicy.objects.exists()

    good = admin_client.post(f"{CHANGELIST}add/", {"category": "exports.jobs", "days_to_keep": 30, "enabled": "on"})
    assert good.status_code == 302
    assert DataRetentionPolicy.objects.get().category == "exports.jobs"


def test_days_to_keep_outside_the_range_is_refused_in_the_admin(admin_client):
    response = admin_client.post(f"{CHANGELIST}add/", {"category": "exports.jobs", "days_to_keep": 40000})
    assert response.status_code == 200
    assert not DataRetentionPolicy.objects.exists()


def test_purge_history_is_read_only(admin_client):
    run = PurgeRunFactory()
    assert admin_client.get("/admin/retention/purgerun/").status_code == 200
    filtered = admin_client.get("/admin/retention/purgerun/?status__exact=completed&trigger__exact=command")
    assert filtered.status_code == 200
    assert f"/admin/retention/purgerun/{run.pk}/" in filtered.content.decode()
    assert admin_client.get("/admin/retention/purgerun/add/").status_code == 403
    assert admin_client.post(f"/admin/retention/purgerun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PurgeRun.objects.filter(pk=run.pk).exists()


def test_a_policy_is_changed_through_the_admin_but_its_category_is_not(admin_client):
    policy = PolicyFactory(category="exports.jobs", days_to_keep=30)
    url = f"{CHANGELIST}{policy.pk}/change/"
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(
        url, {"category": "admin.log", "days_to_keep": 45, "enabled": "on", "legal_hold": "on", "description": ""}
    )

    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.category, policy.days_to_keep, policy.legal_hold) == ("exports.jobs", 45, True)
    assert DataRetentionPolicy.objects.count() == 1


def test_a_view_only_staff_user_is_offered_no_purge_action_and_cannot_post_one(client, policy_with_due_rows):
    from django.contrib.auth.models import Permission, User

    viewer = User.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_dataretentionpolicy"))
    client.force_login(viewer)

    page = client.get(CHANGELIST).content.decode()
    posted = client.post(
        CHANGELIST,
        {"action": "purge_now", "confirm": "yes", ACTION_CHECKBOX_NAME: [policy_with_due_rows.pk]},
        follow=True,
    )

    assert 'value="purge_now"' not in page and 'value="preview_dry_run"' not in page
    assert posted.status_code == 200
    assert not PurgeRun.objects.exists()
    assert MaintenanceEvent.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_purge_now_with_the_broker_down_marks_the_run_failed_and_says_why(admin_client, monkeypatch):
    from kombu.exceptions import OperationalError

    def broker_down(name, args=None, **options):
        raise OperationalError("Connection refused")

    policy = PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=timezone.now() - timedelta(days=40))
    monkeypatch.setattr("opsconsole.celery.app.send_task", broker_down)

    response = admin_client.post(
        CHANGELIST, {"action": "purge_now", "confirm": "yes", ACTION_CHECKBOX_NAME: [policy.pk]}, follow=True
    )

    run = PurgeRun.objects.get()
    assert run.status == "failed"
    assert "broker is unreachable" in run.error
    assert "Purge not queued" in response.content.decode()
    assert MaintenanceEvent.objects.count() == 1
