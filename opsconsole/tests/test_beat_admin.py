"""django-celery-beat's list actions (enable, disable, toggle, run) need the change permission."""

from __future__ import annotations

import pytest
from celery.app.task import Task
from django.contrib.auth.models import Permission
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:django_celery_beat_periodictask_changelist")
ACTIONS = ["enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks"]


@pytest.fixture
def purge_schedule():
    return PeriodicTask.objects.create(
        name="retention-purge-daily",
        task="retention.tasks.purge_scheduled",
        crontab=CrontabSchedule.objects.create(minute="30", hour="3"),
        enabled=True,
    )


@pytest.fixture
def sent(monkeypatch):
    """The tasks "run" would send to the broker, recorded instead of sent."""
    calls = []
    monkeypatch.setattr(Task, "apply_async", lambda task, *args, **kwargs: calls.append(task.name))
    return calls


def staff_with(client, django_user_model, *codenames):
    user = django_user_model.objects.create_user("beat-staff", password="pw-beat-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def offered_actions(client) -> set[str]:
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered at all
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def test_a_view_only_user_is_offered_no_action_and_posting_one_changes_and_runs_nothing(
    client, django_user_model, purge_schedule, sent
):
    viewer = staff_with(client, django_user_model, "view_periodictask")

    assert offered_actions(viewer) == set()
    for action in ACTIONS:
        viewer.post(CHANGELIST, {"action": action, "_selected_action": [purge_schedule.pk]})

    purge_schedule.refresh_from_db()
    assert purge_schedule.enabled is True
    assert sent == []


def test_a_user_who_may_change_schedules_can_toggle_and_run_them(client, django_user_model, purge_schedule, sent):
    editor = staff_with(client, django_user_model, "view_periodictask", "change_periodictask")

    assert set(ACTIONS) <= offered_actions(editor)
    editor.post(CHANGELIST, {"action": "toggle_tasks", "_selected_action": [purge_schedule.pk]})
    purge_schedule.refresh_from_db()
    assert purge_schedule.enabled is False

    editor.post(CHANGELIST, {"action": "run_tasks", "_selected_action": [purge_schedule.pk]})
    assert sent == ["retention.tasks.purge_scheduled"]
