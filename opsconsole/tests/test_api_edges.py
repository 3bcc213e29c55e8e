"""Edges every /system endpoint shares: unknown paths, out-of-range dates, loose booleans."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/system/nope", "/system/notify/nope/", "/system/exports/1/nope"])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_system_path_is_a_json_404(api, path, method):
    response = getattr(api, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert path in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/system/notify/", "created_after"),
        ("/system/notify/", "created_before"),
        ("/system/exports/", "created_after"),
        ("/system/retention/runs", "started_before"),
        ("/system/maintenance/history", "at_after"),
    ],
)
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_date_that_overflows_in_utc_is_a_400_not_a_500(api, path, param, value):
    response = api.get(path, {param: value})
    assert response.status_code == 400, response.content
    [message] = next(iter(response.json()["errors"].values()))
    assert "out of range" in message


def test_the_furthest_dates_that_fit_are_accepted(api):
    assert api.get("/system/notify/", {"created_after": "0001-01-01T00:00:00Z"}).status_code == 200
    assert api.get("/system/notify/", {"created_before": "9999-12-31T23:59:59Z"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/system/retention/", "enabled"),
        ("/system/retention/", "legal_hold"),
        ("/system/retention/runs", "dry_run"),
        ("/system/notify/channels", "active"),
    ],
)
def test_a_boolean_filter_that_is_not_true_or_false_is_a_400(api, path, param):
    response = api.get(path, {param: "maybe"})
    assert response.status_code == 400
    assert response.json()["errors"][param] == ["Must be true or false."]


def test_retention_boolean_filters_filter(api):
    for category, enabled in (("admin.log", True), ("maintenance.events", False)):
        response = api.post(
            "/system/retention/", {"category": category, "days_to_keep": 30, "enabled": enabled}, format="json"
        )
        assert response.status_code in (200, 201), response.json()
    disabled = api.get("/system/retention/", {"enabled": "false"}).json()["results"]
    assert [row["category"] for row in disabled] == ["maintenance.events"]


@pytest.mark.parametrize(
    ("path", "query", "param"),
    [
        ("/system/exports/", {"page": "abc"}, "page"),
        ("/system/exports/", {"page": "0"}, "page"),
        ("/system/exports/", {"page_size": "ten"}, "page_size"),
        ("/system/exports/", {"page_size": "-1"}, "page_size"),
        ("/system/exports/", {"page_size": "501"}, "page_size"),
        ("/system/notify/", {"cursor": "not-a-cursor"}, "cursor"),
        ("/system/notify/", {"page_size": "0"}, "page_size"),
    ],
)
def test_malformed_pagination_is_a_400_naming_the_parameter(api, path, query, param):
    response = api.get(path, query)
    assert response.status_code == 400, response.content
    assert param in response.json()["errors"]


def test_a_page_past_the_end_is_still_a_404_and_good_pages_work(api):
    from exports.tests.factories import ExportJobFactory

    ExportJobFactory.create_batch(3)
    page = api.get("/system/exports/", {"page": "2", "page_size": "2"}).json()
    assert len(page["results"]) == 1 and page["previous"]
    assert api.get("/system/exports/", {"page": "last", "page_size": "2"}).status_code == 200
    assert api.get("/system/exports/", {"page": "3", "page_size": "2"}).status_code == 404


@pytest.mark.parametrize("path", ["/system/maintenance/history", "/system/notify/"])
def test_a_crafted_cursor_is_a_400_not_a_500(api, path):
    import base64

    for raw in ("p=abc", "p=1;drop", "o=1&r=1&p=x"):
        cursor = base64.b64encode(raw.encode()).decode()
        response = api.get(path, {"cursor": cursor})
        assert response.status_code == 400, (raw, response.content)
        assert "cursor" in response.json()["errors"]


def test_deeply_nested_json_is_a_400(api):
    body = '{"category": "admin.log", "days_to_keep": 30, "description": ' + "[" * 3000 + "]" * 3000 + "}"
    response = api.post("/system/retention/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    body = '{"mode": "read_only", "reason": ' + "[" * 100 + "]" * 100 + "}"
    assert api.post("/system/maintenance/", body, content_type="application/json").status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/system/notify/channels", {"name": "n", "channel_type": "log", "target": "ops", "config": {"a\x00": 1}}, "a"),
        ("/system/retention/", {"category": "admin.log", "days_to_keep": 30, "description": "x\x00"}, "description"),
    ],
)
def test_a_nul_character_anywhere_in_a_json_body_is_a_400(api, path, body, where):
    from notifications.models import NotificationChannel
    from retention.models import DataRetentionPolicy

    response = api.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert where in str(response.json()["errors"])
    assert not NotificationChannel.objects.exists() and not DataRetentionPolicy.objects.exists()


def test_a_nul_in_a_payload_given_to_the_service_is_refused_naming_it():
    from notifications.exceptions import NotificationInvalid
    from notifications.services import notification_enqueue
    from notifications.tests.factories import ChannelFactory

    channel = ChannelFactory()
    with pytest.raises(NotificationInvalid) as refused:
        notification_enqueue(channel_id=channel.pk, body="b", payload={"deep": ["ok", "n\x00"]})
    assert "deep[1]" in refused.value.fields["payload"][0]


def test_errors_outside_drf_are_json_under_system(api, settings, rf):
    from opsconsole.api.views import bad_request, server_error

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/system/retention/", '{"description": "' + "x" * 2000 + '"}', content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert server_error(rf.get("/system/notify/"))["Content-Type"] == "application/json"
    assert bad_request(rf.get("/system/x"), Exception("bad"))["Content-Type"] == "application/json"
    assert server_error(rf.get("/admin/")).status_code == 500  # Django's own page elsewhere
    assert "html" in server_error(rf.get("/admin/"))["Content-Type"]


def test_posting_to_health_is_a_json_405(client):
    response = client.post("/health")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert "GET" in response.json()["detail"]


def test_the_schema_and_docs_are_for_staff_only(anon_api, nonstaff_api, api):
    for path in ("/system/schema/", "/system/docs/", "/system/redoc/"):
        assert anon_api.get(path).status_code == 401, path
        assert nonstaff_api.get(path).status_code == 403, path
        assert api.get(path).status_code == 200, path


def test_admin_without_its_trailing_slash_redirects(admin_client):
    response = admin_client.get("/admin")
    assert response.status_code == 301 and response["Location"] == "/admin/"


def test_a_bad_range_value_names_the_key_that_was_sent(api):
    response = api.get("/system/maintenance/history", {"at_after": "garbage"})
    assert list(response.json()["errors"]) == ["at_after"]


@pytest.mark.parametrize("path", ["/system/retention/", "/system/retention/runs"])
def test_an_unknown_category_filter_is_a_400_listing_the_known_ones(api, path):
    response = api.get(path, {"category": "nope"})
    assert response.status_code == 400
    assert "admin.log" in response.json()["errors"]["category"][0]
    assert api.get(path, {"category": "admin.log"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/system/maintenance/", {"mode": "read_only", "reason": "x"}),
        ("/system/retention/", {"category": "admin.log", "days_to_keep": 30}),
    ],
)
def test_a_query_parameter_on_a_write_is_a_400_and_changes_nothing(api, path, body):
    from maintenance.selectors import current_mode
    from retention.models import DataRetentionPolicy

    response = api.post(f"{path}?foo=1", body, format="json")
    assert response.status_code == 400 and "foo" in response.json()["errors"]
    assert current_mode() == "normal" and not DataRetentionPolicy.objects.exists()
    assert api.post(path, body, format="json").status_code in (200, 201)
