"""The token admin: prefixes only, your own tokens unless superuser, the key shown once on add."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from apitokens.authentication import ApiTokenAuthentication
from apitokens.models import ApiToken
from apitokens.services import token_create

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:apitokens_apitoken_changelist")
ADD = reverse("admin:apitokens_apitoken_add")


@pytest.fixture
def clerk(client, django_user_model):
    """Staff who may view, add and revoke tokens, but is no superuser."""
    user = django_user_model.objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_apitoken", "add_apitoken", "delete_apitoken"])
    )
    client.force_login(user)
    client.user = user
    return client


def test_the_list_shows_prefixes_never_keys_or_hashes(admin_client, admin_user, staff_user):
    mine, my_key = token_create(user=admin_user)
    theirs, their_key = token_create(user=staff_user)

    page = admin_client.get(CHANGELIST).content.decode()

    for token, key in ((mine, my_key), (theirs, their_key)):
        assert f"{token.prefix}…" in page
        assert key not in page and token.key_hash not in page
    detail = admin_client.get(reverse("admin:apitokens_apitoken_change", args=[mine.pk])).content.decode()
    assert my_key not in detail and mine.key_hash not in detail


def test_a_non_superuser_sees_and_revokes_only_their_own_tokens(clerk, staff_user):
    own, _ = token_create(user=clerk.user)
    superusers, superuser_key = token_create(user=staff_user)

    assert list(clerk.get(CHANGELIST).context["cl"].result_list) == [own]
    assert clerk.get(reverse("admin:apitokens_apitoken_change", args=[superusers.pk])).status_code == 302
    clerk.post(reverse("admin:apitokens_apitoken_delete", args=[superusers.pk]), {"post": "yes"})
    clerk.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [superusers.pk], "post": "yes"})
    assert ApiToken.objects.filter(pk=superusers.pk).exists()

    clerk.post(reverse("admin:apitokens_apitoken_delete", args=[own.pk]), {"post": "yes"})
    assert not ApiToken.objects.filter(pk=own.pk).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {superuser_key}")
    assert api.get("/system/maintenance/").status_code == 200


def test_adding_a_token_shows_its_key_once_and_it_works(clerk):
    response = clerk.post(ADD, {"user": clerk.user.pk}, follow=True)

    shown = [str(message) for message in get_messages(response.wsgi_request)]
    shown += re.findall(r"<code>([^<]+)</code>", response.content.decode())
    key = next(re.search(r"oc_[\w-]+", text).group(0) for text in shown if "oc_" in text)
    token = ApiToken.objects.get(user=clerk.user)
    assert key.startswith(token.prefix)
    assert key not in clerk.get(CHANGELIST).content.decode()
    assert ApiTokenAuthentication().authenticate_credentials(key) == (clerk.user, token)


def test_a_non_superuser_cannot_make_a_token_for_someone_else(clerk, staff_user):
    response = clerk.post(ADD, {"user": staff_user.pk})

    assert response.status_code == 200  # the form again, with its error
    assert "user" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_a_superuser_makes_tokens_for_others_with_an_expiry_within_the_ttl(admin_client, staff_user, settings):
    settings.API_TOKENS = {"TTL_DAYS": 7}
    too_late = admin_client.post(ADD, {"user": staff_user.pk, "expires_at_0": "2999-01-01", "expires_at_1": "00:00"})
    assert "expires_at" in too_late.context["adminform"].form.errors

    admin_client.post(ADD, {"user": staff_user.pk})
    token = ApiToken.objects.get(user=staff_user)
    assert token.expires_at is not None


def test_a_view_only_user_cannot_add_or_revoke(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    token, _ = token_create(user=viewer)
    client.force_login(viewer)

    assert client.get(ADD).status_code == 403
    client.post(reverse("admin:apitokens_apitoken_delete", args=[token.pk]), {"post": "yes"})
    assert ApiToken.objects.filter(pk=token.pk).exists()
