"""Every admin screen of the project renders for staff (a broken list_display or filter shows here)."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"maintenance", "notifications", "exports", "retention"}
MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in PROJECT_APPS
)


def test_every_project_app_has_admin_screens():
    assert {app for app, _ in MODELS} == PROJECT_APPS


@pytest.mark.parametrize(("app_label", "model_name"), MODELS)
def test_changelist_renders_with_search_for_staff(admin_client, app_label, model_name):
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    response = admin_client.get(url, {"q": "x"} if _has_search(app_label, model_name) else {})
    assert response.status_code == 200


def _has_search(app_label: str, model_name: str) -> bool:
    for model, model_admin in admin.site._registry.items():
        if (model._meta.app_label, model._meta.model_name) == (app_label, model_name):
            return bool(model_admin.search_fields)
    return False


def test_admin_index_is_titled_opsconsole(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert b"OpsConsole" in response.content
