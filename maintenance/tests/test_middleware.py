import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.utils import timezone

from maintenance.guards import is_write as sql_is_write
from maintenance.services import maintenance_set_mode
from maintenance.state import forget_local_state

pytestmark = [pytest.mark.django_db, pytest.mark.urls("maintenance.tests.urls")]


@pytest.fixture
def set_mode(django_capture_on_commit_callbacks):
    """Change the mode through the service and publish it as a commit would."""

    def _set(mode, **kwargs):
        kwargs.setdefault("reason", "test")
        with django_capture_on_commit_callbacks(execute=True):
            maintenance_set_mode(mode=mode, **kwargs)
        forget_local_state()

    return _set


@pytest.fixture
def member_client(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user("member", password="pw-member-123"))
    return client


def test_writes_pass_in_normal_mode(client):
    assert client.post("/test/groups", {"name": "a"}).status_code == 201


@pytest.mark.parametrize("mode", ["read_only", "maintenance"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_are_refused_with_503_and_retry_after(client, set_mode, mode, method):
    set_mode(mode, retry_after=120)
    response = getattr(client, method)("/test/groups", content_type="application/json", data="{}")
    assert response.status_code == 503
    assert response["Retry-After"] == "120"
    assert response.json()["mode"] == mode
    assert not Group.objects.exists()


def test_api_clients_get_json_with_detail_mode_and_retry_after(api, set_mode):
    set_mode("read_only", message="Upgrading the database", retry_after=60)
    response = api.post("/system/notify/channels", {"name": "x"}, format="json")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Upgrading the database", "mode": "read_only", "retry_after": 60}


def test_browsers_get_the_maintenance_page(client, set_mode):
    set_mode("read_only", message="Back at noon")
    response = client.post("/test/groups", {"name": "a"}, HTTP_ACCEPT="text/html")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"Back at noon" in response.content
    assert b"Changes are paused" in response.content
    assert response["X-Frame-Options"] == "DENY"


def test_retry_after_is_shortened_to_the_end_of_the_window(client, set_mode):
    set_mode("read_only", retry_after=3600, until=timezone.now() + timedelta(seconds=90))
    response = client.post("/test/groups", HTTP_ACCEPT="application/json")
    assert 85 <= int(response["Retry-After"]) <= 90


@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_safe_methods_pass_in_read_only_mode(client, set_mode, method):
    set_mode("read_only")
    assert getattr(client, method)("/test/groups").status_code == 200


def test_writes_pass_again_once_until_has_passed(client, set_mode):
    import time_machine

    start = timezone.now()
    set_mode("read_only", until=start + timedelta(seconds=30))
    assert client.post("/test/groups", {"name": "a"}).status_code == 503
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert client.post("/test/groups", {"name": "a"}).status_code == 201


def test_maintenance_endpoint_stays_writable_so_staff_can_turn_it_off(api, set_mode):
    set_mode("maintenance")
    response = api.post("/system/maintenance", {"mode": "normal", "reason": "done"}, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ["/system/maintenance", "/system/maintenance/", "/system/maintenance/history"])
def test_maintenance_paths_are_exempt(client, set_mode, path):
    set_mode("read_only")
    # Not 503: the request reaches the view (which refuses the anonymous client itself).
    assert client.post(path, content_type="application/json", data="{}").status_code in {401, 403, 405}


def test_lookalike_paths_are_not_exempt(client, set_mode):
    set_mode("read_only")
    assert client.post("/system/maintenancex", HTTP_ACCEPT="application/json").status_code == 503
    assert client.post("/healthz", HTTP_ACCEPT="application/json").status_code == 503


def test_admin_login_and_logout_stay_writable(client, staff_user, set_mode):
    set_mode("maintenance")
    response = client.post("/admin/login/", {"username": "ops", "password": "pw-ops-123", "next": "/admin/"})
    assert response.status_code == 302
    assert client.post("/admin/logout/").status_code == 200


def test_admin_writes_elsewhere_are_refused(staff_client, set_mode):
    set_mode("read_only")
    # A ModelAdmin's form answers the refusal itself: the form again, what was typed, why (admin_readonly.py).
    response = staff_client.post("/admin/auth/group/add/", {"name": "ops"})
    assert response.status_code == 200
    assert b"Not saved. The console is in read_only mode" in response.content
    assert b'value="ops"' in response.content
    assert not Group.objects.exists()
    # Any other admin view gets the shield's 503.
    refused = staff_client.post("/admin/password_change/", {"old_password": "pw-ops-123"})
    assert refused.status_code == 503


def test_health_is_exempt(client, set_mode):
    set_mode("maintenance")
    assert client.get("/health").status_code == 200


def test_non_staff_page_views_get_the_maintenance_page_in_maintenance_mode(member_client, set_mode):
    set_mode("maintenance", message="Moving data centres")
    response = member_client.get("/test/page")
    assert response.status_code == 503
    assert b"Moving data centres" in response.content
    assert "Retry-After" in response


def test_anonymous_page_views_get_the_maintenance_page_with_a_staff_sign_in_link(client, set_mode):
    set_mode("maintenance")
    response = client.get("/test/page")
    assert response.status_code == 503
    assert b'href="/admin/login/"' in response.content


def test_staff_still_browse_in_maintenance_mode(staff_client, set_mode):
    set_mode("maintenance")
    assert staff_client.get("/test/page").status_code == 200
    assert staff_client.get("/admin/").status_code == 200


def test_non_staff_page_views_pass_in_read_only_mode(member_client, set_mode):
    set_mode("read_only")
    assert member_client.get("/test/page").status_code == 200


def test_a_get_view_that_writes_gets_503_from_the_database_guard(client, set_mode):
    set_mode("read_only", retry_after=30)
    # The savepoint stands in for autocommit: the refused INSERT marks the test's transaction.
    with transaction.atomic():
        response = client.get("/test/write-on-get", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert json.loads(response.content)["mode"] == "read_only"
    assert not Group.objects.exists()


def test_an_api_get_that_writes_gets_the_json_503_from_the_exception_handler(client, set_mode):
    set_mode("maintenance", retry_after=45, message="Racks moving")
    with transaction.atomic():
        response = client.get("/system/test/write-on-get")
    assert response.status_code == 503
    assert response["Retry-After"] == "45"
    assert response.json() == {"detail": "Racks moving", "mode": "maintenance", "retry_after": 45}
    assert not Group.objects.exists()


def test_a_get_view_that_writes_is_fine_in_normal_mode(client):
    assert client.get("/test/write-on-get").status_code == 200
    assert Group.objects.filter(name="written-by-a-get").exists()


def test_normal_mode_costs_no_query_per_request(client, set_mode, django_assert_num_queries):
    set_mode("read_only")
    set_mode("normal")
    client.get("/test/page")
    with django_assert_num_queries(0):
        for _ in range(20):
            assert client.get("/test/page").status_code == 200


def test_read_only_mode_costs_no_query_per_request(client, set_mode, django_assert_num_queries):
    set_mode("read_only")
    client.get("/test/page")
    with django_assert_num_queries(0):
        for _ in range(20):
            assert client.post("/test/groups", HTTP_ACCEPT="application/json").status_code == 503
            assert client.get("/test/page").status_code == 200


@pytest.mark.parametrize(
    ("sql", "writes"),
    [
        ('SELECT "auth_group"."id" FROM "auth_group"', False),
        ("  (SELECT 1) UNION (SELECT 2)", False),
        ('INSERT INTO "auth_group" ("name") VALUES (%s)', True),
        ('UPDATE "auth_group" SET "name" = %s', True),
        ("delete from auth_group", True),
        ("WITH d AS (DELETE FROM auth_group RETURNING id) SELECT * FROM d", True),
        ('SAVEPOINT "s1"', False),
        ("TRUNCATE auth_group", True),
        ("CREATE TABLE x (id int)", True),
        ("select pg_advisory_unlock(1)", False),
        ("EXPLAIN SELECT 1", False),
        ('RELEASE SAVEPOINT "s1"', False),
        ('ROLLBACK TO SAVEPOINT "s1"', False),
        ("SET LOCAL statement_timeout = 1000", False),
        ('DECLARE "c1" NO SCROLL CURSOR WITH HOLD FOR SELECT 1', False),
        ("", True),
    ],
)
def test_sql_guard_tells_writes_from_reads(sql, writes):
    assert sql_is_write(sql) is writes


def test_static_files_are_not_replaced_by_the_maintenance_page(client, set_mode):
    set_mode("maintenance")
    assert client.get("/static/admin/css/base.css").status_code != 503
