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
