from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from apitokens.services import token_create
from maintenance.models import MaintenanceEvent, MaintenanceState
from maintenance.tests.factories import MaintenanceEventFactory, MaintenanceStateFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/system/maintenance", "/system/maintenance/"])
def test_state_reads_normal_on_a_fresh_install(api, path):
    response = api.get(path)
    assert response.status_code == 200
    assert response.json() == {
        "mode": "normal",
        "message": "",
        "retry_after": 300,
        "until": None,
        "updated_by": "",
        "updated_at": None,
    }


@pytest.mark.parametrize("path", ["/system/maintenance", "/system/maintenance/"])
def test_post_changes_the_mode_and_records_who_and_why(api, path):
    until = (timezone.now() + timedelta(hours=1)).replace(microsecond=0)
    body = {"mode": "read_only", "reason": "db upgrade", "message": "Back soon", "until": until.isoformat(),
            "retry_after": 120}  # fmt: skip
    response = api.post(path, body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["mode"], data["message"], data["retry_after"], data["updated_by"]) == (
        "read_only",
        "Back soon",
        120,
        "ops",
    )
    assert data["until"].startswith(until.strftime("%Y-%m-%dT%H:%M:%S"))
    event = MaintenanceEvent.objects.get()
    assert (event.to_mode, event.reason, event.actor_name, event.source) == ("read_only", "db upgrade", "ops", "api")
    assert api.get(path).json()["mode"] == "read_only"


def test_post_that_changes_nothing_is_409(api):
    assert api.post("/system/maintenance", {"mode": "read_only", "reason": "a"}, format="json").status_code == 200
    response = api.post("/system/maintenance", {"mode": "read_only", "reason": "b"}, format="json")
    assert response.status_code == 409
    assert "already in mode read_only" in response.json()["detail"]
    assert MaintenanceEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "off", "reason": "x"}, "mode"),
        ({"mode": "read_only"}, "reason"),
        ({"mode": "read_only", "reason": "   "}, "reason"),
        ({"mode": "read_only", "reason": "x", "until": "2001-01-01T00:00:00Z"}, "until"),
        ({"mode": "read_only", "reason": "x", "until": "tomorrow"}, "until"),
        ({"mode": "read_only", "reason": "x", "retry_after": -5}, "retry_after"),
        ({"mode": "read_only", "reason": "x", "retry_after": "soon"}, "retry_after"),
        ({"mode": "read_only", "reason": "x", "retry_after": "30"}, "retry_after"),
        ({"mode": "read_only", "reason": "x", "retry_after": 30.0}, "retry_after"),
        ({"mode": "read_only", "reason": 5}, "reason"),
        ({"mode": "read_only", "reason": "x", "message": 7}, "message"),
        ({"mode": ["read_only"], "reason": "x"}, "mode"),
        ({"mode": "read_only", "reason": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(api, body, field):
    response = api.post("/system/maintenance/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not MaintenanceEvent.objects.exists()
    assert not MaintenanceState.objects.exists()


def test_unknown_mode_error_lists_the_modes(api):
    response = api.post("/system/maintenance", {"mode": "off", "reason": "x"}, format="json")
    assert "normal, read_only, maintenance" in response.json()["errors"]["mode"][0]


def test_malformed_json_is_400(api):
    response = api.post("/system/maintenance", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_anonymous_gets_401_and_non_staff_403(anon_api, nonstaff_api):
    assert anon_api.get("/system/maintenance").status_code == 401
    assert nonstaff_api.get("/system/maintenance").status_code == 403
    assert (
        nonstaff_api.post("/system/maintenance", {"mode": "read_only", "reason": "x"}, format="json").status_code == 403
    )
    assert nonstaff_api.get("/system/maintenance/history").status_code == 403


def _staff_client_with(*codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)[1]}")
    return client


def test_post_needs_the_change_permission():
    viewer = _staff_client_with("view_maintenancestate")
    assert viewer.get("/system/maintenance").status_code == 200
    assert viewer.post("/system/maintenance", {"mode": "read_only", "reason": "x"}, format="json").status_code == 403
    changer = _staff_client_with("view_maintenancestate", "change_maintenancestate")
    assert changer.post("/system/maintenance", {"mode": "read_only", "reason": "x"}, format="json").status_code == 200


def test_get_shows_normal_once_until_has_passed(api):
    MaintenanceStateFactory(mode="maintenance", until=timezone.now() - timedelta(seconds=1))
    assert api.get("/system/maintenance").json()["mode"] == "normal"


@pytest.mark.parametrize("path", ["/system/maintenance/history", "/system/maintenance/history/"])
def test_history_lists_changes_newest_first(api, path):
    api.post("/system/maintenance", {"mode": "read_only", "reason": "first"}, format="json")
    api.post("/system/maintenance", {"mode": "normal", "reason": "second"}, format="json")
    response = api.get(path)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["reason"] for r in results] == ["second", "first"]
    assert set(results[0]) == {"id", "from_mode", "to_mode", "reason", "message", "until", "retry_after", "actor",
                               "source", "at"}  # fmt: skip
    assert results[0]["actor"] == "ops"


def test_history_is_cursor_paginated(api):
    MaintenanceEventFactory.create_batch(5)
    first = api.get("/system/maintenance/history?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})
    assert "count" not in first


def test_history_filters_by_mode_actor_and_time(api):
    MaintenanceEventFactory(from_mode="normal", to_mode="read_only", actor_name="alice")
    MaintenanceEventFactory(from_mode="read_only", to_mode="maintenance", actor_name="bob")
    MaintenanceEventFactory(from_mode="maintenance", to_mode="normal", actor_name="")

    def reasons(query):
        response = api.get(f"/system/maintenance/history?{query}")
        assert response.status_code == 200, response.json()
        return len(response.json()["results"])

    assert reasons("to_mode=maintenance") == 1
    assert reasons("from_mode=read_only") == 1
    assert reasons("actor=alice") == 1
    past = (timezone.now() - timedelta(hours=1)).isoformat().replace("+", "%2B")
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+", "%2B")
    assert reasons(f"at_after={past}&at_before={future}") == 3
    assert reasons(f"at_after={future}") == 0


@pytest.mark.parametrize("query", ["stauts=x", "to_mode=off", "at_after=yesterday"])
def test_history_refuses_unknown_or_bad_filters(api, query):
    assert api.get(f"/system/maintenance/history?{query}").status_code == 400


def test_history_costs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    MaintenanceEventFactory.create_batch(60)
    api.get("/system/maintenance/history")
    with django_assert_max_num_queries(3):
        assert api.get("/system/maintenance/history").status_code == 200


def test_schema_documents_the_maintenance_endpoints(api):
    schema = api.get("/system/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    assert "maintenance_change" in schema
    assert "MaintenanceChange" in schema
    assert "to_mode" in schema


def test_an_unknown_query_parameter_on_the_state_is_a_400(api):
    response = api.get("/system/maintenance/?mdoe=normal")
    assert response.status_code == 400
    assert "mdoe" in response.json()["errors"]


def test_a_message_over_2000_characters_is_a_400_and_changes_nothing(api):
    from maintenance.exceptions import InvalidMaintenanceChange
    from maintenance.services import MAX_MESSAGE_LENGTH, maintenance_set_mode

    body = {"mode": "read_only", "reason": "deploy", "message": "x" * 2001}
    response = api.post("/system/maintenance/", body, format="json")
    assert response.status_code == 400 and "message" in response.json()["errors"]
    assert api.get("/system/maintenance/").json()["mode"] == "normal"
    with pytest.raises(InvalidMaintenanceChange):  # the command and the admin go through the service
        maintenance_set_mode(mode="read_only", reason="deploy", message="x" * (MAX_MESSAGE_LENGTH + 1))
