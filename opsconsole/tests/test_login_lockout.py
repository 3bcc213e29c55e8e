"""The admin login locks a username + address pair out after repeated wrong passwords (django-axes)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def ops(django_user_model, settings):
    # A fast hasher: these tests check dozens of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_superuser("ops", "ops@example.com", "pw-ops-123")


def sign_in(client, password, *, address="10.0.0.1", username="ops"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_fewer_wrong_passwords_than_the_limit_still_let_the_right_one_in(client, ops, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    assert sign_in(client, "pw-ops-123").status_code == 302
    assert signed_in(client)


def test_the_right_password_is_refused_during_the_cool_off_after_the_limit(client, ops, settings):
    limit, cool_off = settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME
    assert limit == 10 and cool_off == timedelta(minutes=15)  # the documented defaults
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, "wrong")
        response = sign_in(client, "pw-ops-123")
        assert response.status_code == 429
        assert response["Retry-After"] == "900"
        page = response.content.decode()
        assert "Sign-in temporarily locked" in page and "<strong>ops</strong>" in page and "15 minutes" in page
        assert not signed_in(client)
        # The pair is locked, not the account: the same user from another address gets in.
        assert sign_in(client, "pw-ops-123", address="10.0.0.2").status_code == 302
    client.logout()
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert sign_in(client, "pw-ops-123").status_code == 302
        assert signed_in(client)


def test_force_login_is_not_affected_by_the_lockout(client, ops, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong", address="127.0.0.1")
    client.force_login(ops)
    assert client.get("/admin/").status_code == 200
