import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("opsconsole.tests.plumbing_urls")]


def test_known_filters_and_pagination_params_are_accepted(api):
    response = api.get("/log/", {"action_flag": 1, "page_size": 5, "action_time_after": "2026-01-01T00:00:00Z"})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_unknown_query_parameter_is_a_400_naming_it(api):
    response = api.get("/log/", {"acton_flag": 1})
    assert response.status_code == 400
    assert "acton_flag" in response.json()["errors"]


def test_invalid_filter_value_is_a_400(api):
    response = api.get("/log/", {"action_time_after": "yesterday"})
    assert response.status_code == 400


def test_path_works_without_trailing_slash(api):
    assert api.get("/log").status_code == 200
    assert api.get("/log/").status_code == 200
