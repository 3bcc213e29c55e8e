"""API tokens: hashed at rest, shown once, expiring, noted when used, and the DRF command kept."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from importlib import import_module
from io import StringIO

import pytest
import time_machine
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apitokens.models import ApiToken
from apitokens.services import token_create, token_revoke
from maintenance.services import maintenance_set_mode
from maintenance.state import forget_local_state

pytestmark = pytest.mark.django_db

URL = "/system/maintenance/"


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_authenticates_and_only_its_sha256_is_stored(staff_user):
    token, key = token_create(user=staff_user)

    assert client_with(key).get(URL).status_code == 200
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert stored.prefix == key[:10]
    assert key not in {value for value in vars(stored).values() if isinstance(value, str)}


def test_unknown_revoked_and_expired_tokens_get_401(staff_user):
    token, key = token_create(user=staff_user)
    expired, expired_key = token_create(user=staff_user, expires_at=timezone.now() - timedelta(seconds=1))

    assert client_with(key + "x").get(URL).status_code == 401
    response = client_with(expired_key).get(URL)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"].lower()
    token_revoke(token=token)
    assert client_with(key).get(URL).status_code == 401


def test_an_inactive_users_token_gets_401(staff_user):
    _token, key = token_create(user=staff_user)
    staff_user.is_active = False
    staff_user.save()
    assert client_with(key).get(URL).status_code == 401


def test_expiry_comes_from_the_ttl_setting_and_none_means_never(settings, staff_user):
    never, _ = token_create(user=staff_user)
    assert never.expires_at is None

    settings.API_TOKENS = {"TTL_DAYS": 30}
    with time_machine.travel("2026-03-01T12:00:00Z", tick=False):
        token, key = token_create(user=staff_user)
        assert token.expires_at == timezone.now() + timedelta(days=30)
        assert client_with(key).get(URL).status_code == 200
    with time_machine.travel("2026-03-31T12:00:01Z", tick=False):
        assert client_with(key).get(URL).status_code == 401


def _token_updates(queries) -> int:
    return sum(1 for query in queries if query["sql"].startswith("UPDATE") and "api_tokens" in query["sql"])


def test_last_use_is_written_at_most_once_a_minute(staff_user):
    token, key = token_create(user=staff_user)
    client = client_with(key)
    with time_machine.travel("2026-03-01T12:00:00Z", tick=False) as clock:
        with CaptureQueriesContext(connection) as first:
            client.get(URL)
        assert _token_updates(first.captured_queries) == 1
        assert ApiToken.objects.get(pk=token.pk).last_used_at == timezone.now()

        clock.shift(30)
        with CaptureQueriesContext(connection) as soon_after:
            client.get(URL)
            client.get(URL)
        assert _token_updates(soon_after.captured_queries) == 0

        clock.shift(31)
        client.get(URL)
        assert ApiToken.objects.get(pk=token.pk).last_used_at == timezone.now()


def test_a_token_still_reads_in_read_only_mode_without_noting_its_use(staff_user, django_capture_on_commit_callbacks):
    _token, key = token_create(user=staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        maintenance_set_mode(mode="read_only", reason="test")
    forget_local_state()

    response = client_with(key).get("/system/notify/channels")

    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is None


# --- manage.py drf_create_token ------------------------------------------------------
def test_drf_create_token_prints_a_working_key_in_the_documented_format(staff_user):
    out = StringIO()
    call_command("drf_create_token", staff_user.username, stdout=out)

    words = out.getvalue().split()
    assert words[:2] == ["Generated", "token"] and words[3:] == ["for", "user", staff_user.username]
    assert client_with(words[2]).get(URL).status_code == 200  # awk '{print $3}'


def test_drf_create_token_adds_a_token_and_reset_revokes_the_others(staff_user):
    keys = []
    for args in ([], [], ["-r"]):
        out = StringIO()
        call_command("drf_create_token", *args, staff_user.username, stdout=out)
        keys.append(out.getvalue().split()[2])

    assert [client_with(key).get(URL).status_code for key in keys] == [401, 401, 200]
    assert ApiToken.objects.filter(user=staff_user).count() == 1


def test_drf_create_token_for_an_unknown_user_fails_and_makes_nothing():
    with pytest.raises(CommandError, match="user nobody does not exist"):
        call_command("drf_create_token", "nobody", stdout=StringIO())
    assert not ApiToken.objects.exists()


# --- the migration from DRF's clear-text table ---------------------------------------
def test_the_migration_hashes_drf_keys_so_clients_keep_working_and_drops_the_clear_keys(staff_user):
    legacy = Token.objects.create(user=staff_user)
    migration = import_module("apitokens.migrations.0002_hash_drf_authtoken_keys")

    migration.hash_authtoken_keys(apps, connection.schema_editor())
    migration.hash_authtoken_keys(apps, connection.schema_editor())  # a second run adds nothing

    assert not Token.objects.exists()
    token = ApiToken.objects.get()
    assert (token.user, token.prefix, token.created_at) == (staff_user, legacy.key[:10], legacy.created)
    assert client_with(legacy.key).get(URL).status_code == 200
