import pytest

pytestmark = pytest.mark.django_db


def test_health_needs_no_auth_and_reports_database(anon_api):
    response = anon_api.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["status"] == "ok"


def test_system_root_refuses_anonymous_with_401(anon_api):
    assert anon_api.get("/system/").status_code == 401


def test_system_root_refuses_non_staff_with_403(nonstaff_api):
    assert nonstaff_api.get("/system/").status_code == 403


def test_system_root_lists_the_parts_for_staff(api):
    body = api.get("/system").json()
    assert body["notify"].endswith("/system/notify/")
    assert body["docs"].endswith("/system/docs")


def test_openapi_schema_is_served(api):
    response = api.get("/system/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content
