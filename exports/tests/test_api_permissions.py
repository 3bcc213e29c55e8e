"""Who may do what on /system/exports: authentication, model permissions, dataset view permissions."""

import pytest

from exports import services
from exports.models import ExportJob
from exports.tests.factories import ExportJobFactory, completed_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


def test_anonymous_is_401_and_non_staff_is_403(anon_api, nonstaff_api):
    job = completed_job()
    for client, code in ((anon_api, 401), (nonstaff_api, 403)):
        assert client.get("/system/exports/").status_code == code
        assert client.get(f"/system/exports/{job.pk}/download").status_code == code
        assert client.post("/system/exports/", {"job_type": "admin.log"}, format="json").status_code == code
    assert ExportJob.objects.count() == 1


def test_staff_without_the_change_permission_cannot_cancel(django_user_model):
    from rest_framework.test import APIClient

    from apitokens.services import token_create

    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_exportjob"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=viewer)[1]}")
    job = ExportJobFactory()
    assert client.get(f"/system/exports/{job.pk}").status_code == 200
    assert client.post(f"/system/exports/{job.pk}/status", {"status": "cancelled"}, format="json").status_code == 403
    assert client.post("/system/exports/", {"job_type": "admin.log"}, format="json").status_code == 403


def test_the_openapi_schema_documents_the_export_endpoints(api):
    response = api.get("/system/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    by_suffix = {
        path.removeprefix("/system/exports").rstrip("/"): path for path in paths if path.startswith("/system/exports")
    }
    assert {"", "/{id}", "/{id}/status", "/{id}/download", "/datasets"} <= set(by_suffix)
    assert "post" in paths[by_suffix["/{id}/status"]]
    assert paths[by_suffix["/{id}/download"]]["get"]["summary"] == "Download the export file"


def _client_with(django_user_model, *codenames):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    from apitokens.services import token_create

    user = django_user_model.objects.create_user("exporter", password="pw-exporter-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)[1]}")
    return client


def test_exporting_a_dataset_needs_the_view_permission_of_its_rows(django_user_model, enqueued):
    client = _client_with(django_user_model, "view_exportjob", "add_exportjob")
    assert client.get("/system/notify/channels").status_code == 403
    response = client.post("/system/exports/", {"job_type": "notifications.channels"}, format="json")
    assert response.status_code == 403, response.json()
    assert "notifications.view_notificationchannel" in response.json()["detail"]
    snapshot = {"job_type": "snapshot", "datasets": ["exports.jobs", "admin.log"]}
    response = client.post("/system/exports/", snapshot, format="json")
    assert response.status_code == 403 and "admin.log" in response.json()["detail"]
    assert ExportJob.objects.count() == 0 and enqueued == []
    # Its own table it may export.
    assert client.post("/system/exports/", {"job_type": "exports.jobs"}, format="json").status_code == 201


def test_downloading_needs_the_view_permission_of_the_rows_too(django_user_model):
    job = completed_job(job_type="notifications.outbox")
    client = _client_with(django_user_model, "view_exportjob")
    response = client.get(f"/system/exports/{job.pk}/download")
    assert response.status_code == 403
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.get(username="exporter")
    user.user_permissions.add(Permission.objects.get(codename="view_notificationoutbox"))
    assert client.get(f"/system/exports/{job.pk}/download").status_code == 200
