"""The /system API's rate limits: per user, writes and reads apart, 429 JSON with Retry-After."""

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from apitokens.services import token_create
from exports.models import ExportJob

pytestmark = pytest.mark.django_db

BAD_EXPORT = {"job_type": "no.such.dataset"}


@pytest.fixture
def rates(settings):
    """Set the API rates for one test (the suite runs with very high ones)."""

    def set_rates(*, write="100000/min", read="100000/min"):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"write": write, "read": read},
        }

    return set_rates


def test_writes_past_the_rate_get_429_json_with_retry_after_and_change_nothing(api, rates, monkeypatch):
    from exports import services

    monkeypatch.setattr(services.enqueue, "export_job_enqueue", lambda job_id: None)
    rates(write="3/min")
    for _ in range(3):
        assert api.post("/system/exports/", BAD_EXPORT, format="json").status_code == 400
    response = api.post("/system/exports/", {"job_type": "notifications.outbox"}, format="json")
    assert response.status_code == 429
    body = response.json()
    assert 1 <= int(response["Retry-After"]) <= 60
    assert body["retry_after"] == int(response["Retry-After"])
    assert body["detail"].startswith("Too many requests")
    assert ExportJob.objects.count() == 0
    # Reads have their own budget.
    assert api.get("/system/exports/").status_code == 200


def test_reads_have_a_rate_of_their_own(api, rates):
    rates(read="2/min")
    assert [api.get("/system/maintenance/").status_code for _ in range(3)] == [200, 200, 429]


def test_the_rate_is_per_user(api, rates, django_user_model):
    rates(read="1/min")
    other = django_user_model.objects.create_superuser("other", "other@example.com", "pw-other-123")
    other_api = APIClient()
    other_api.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=other)[1]}")
    assert api.get("/system/maintenance/").status_code == 200
    assert api.get("/system/maintenance/").status_code == 429
    assert other_api.get("/system/maintenance/").status_code == 200


def test_the_count_lives_in_the_shared_cache_not_in_the_process(api, rates):
    rates(read="1/min")
    assert api.get("/system/maintenance/").status_code == 200
    assert api.get("/system/maintenance/").status_code == 429
    caches["default"].clear()
    assert api.get("/system/maintenance/").status_code == 200


def test_a_rate_of_off_turns_the_limit_off(api, rates):
    rates(read=None)
    assert {api.get("/system/maintenance/").status_code for _ in range(5)} == {200}


def test_repeated_bad_tokens_from_one_address_get_429_while_good_tokens_still_work(api, settings):
    settings.OPSCONSOLE_API_AUTH_FAILURE_LIMIT = 2
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    codes = [intruder.get("/system/maintenance/").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    response = intruder.get("/system/maintenance/")
    assert response.json()["detail"].startswith("Too many failed authentications")
    assert 1 <= int(response["Retry-After"]) <= 600
    assert api.get("/system/maintenance/").status_code == 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120/min", "120/min"), ("5/s", "5/s"), ("off", None), ("", None), ("10/week", ValueError), ("x", ValueError)],
)
def test_rates_from_the_environment_are_checked_at_start_up(monkeypatch, value, expected):
    from opsconsole.env import env_rate

    monkeypatch.setenv("OPSCONSOLE_API_THROTTLE_WRITE", value)
    if expected is ValueError:
        with pytest.raises(ValueError, match="OPSCONSOLE_API_THROTTLE_WRITE"):
            env_rate("OPSCONSOLE_API_THROTTLE_WRITE", "120/min")
    else:
        assert env_rate("OPSCONSOLE_API_THROTTLE_WRITE", "120/min") == expected
