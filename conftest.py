"""Fixtures for every app: API clients by role. App fixtures live in each app's tests/."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apitokens.services import token_create


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Django's PBKDF2 costs ~0.5 s a user and most tests make one (staff_user, admin_client):
    the largest share of the suite's CPU time. No test is about the hash's strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings, tmp_path):
    """Each test gets an empty cache of its own, so maintenance mode never leaks between tests."""
    from django.core.cache import caches

    from maintenance.state import prime_fresh_install

    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
    else:
        caches["default"].clear()
    # A fresh database is in normal mode: say so in the cache and drop the per-process
    # memo, so the mode never leaks between tests and a first request costs no query.
    prime_fresh_install()
    yield
    caches["default"].clear()


@pytest.fixture
def staff_user(django_user_model):
    """A superuser: staff with every model permission."""
    return django_user_model.objects.create_superuser("ops", "ops@example.com", "pw-ops-123")


@pytest.fixture
def staff_client(staff_user) -> Client:
    """A Django test client signed in to the admin as staff."""
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def api(staff_user) -> APIClient:
    """An API client authenticated as staff with a DRF token."""
    client = APIClient()
    _token, key = token_create(user=staff_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = staff_user
    return client


@pytest.fixture
def nonstaff_api(django_user_model) -> APIClient:
    user = django_user_model.objects.create_user("visitor", "visitor@example.com", "pw-visitor-123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)[1]}")
    return client


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_client_with(django_user_model):
    """`staff_client_with("view_exportjob", ...)`: a client signed in as staff holding only those permissions."""
    from django.contrib.auth.models import Permission

    def make(*codenames: str) -> Client:
        user = django_user_model.objects.create_user(
            f"staff-{len(codenames)}-{'-'.join(codenames)}"[:150], is_staff=True
        )
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        assert user.user_permissions.count() == len(codenames), "unknown permission codename"
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def switch_mode(django_capture_on_commit_callbacks):
    """`switch_mode("read_only")`: change the maintenance mode through the service, published as a commit would."""
    from maintenance.services import maintenance_set_mode
    from maintenance.state import forget_local_state

    def switch(mode: str, **kwargs) -> None:
        kwargs.setdefault("reason", "test")
        with django_capture_on_commit_callbacks(execute=True):
            maintenance_set_mode(mode=mode, **kwargs)
        forget_local_state()

    return switch
