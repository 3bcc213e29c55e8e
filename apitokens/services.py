"""Every write to API tokens: make one (the key is returned once), revoke, note its use."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apitokens.conf import token_settings
from apitokens.keys import KEY_PREFIX, PREFIX_LENGTH, key_hash
from apitokens.models import ApiToken

_DEFAULT = object()


def default_expiry(*, now: datetime | None = None) -> datetime | None:
    days = token_settings.TTL_DAYS
    if not days:
        return None
    return (now or timezone.now()) + timedelta(days=days)


@transaction.atomic
def token_create(
    *, user: AbstractBaseUser, expires_at: datetime | None | object = _DEFAULT, replace: bool = False
) -> tuple[ApiToken, str]:
    """Make a token for `user` and return it with its key: the only time the key is known.

    `expires_at` defaults to now + OPSCONSOLE_API_TOKEN_TTL_DAYS (no expiry when unset);
    `replace` revokes the user's other tokens first.
    """
    if replace:
        ApiToken.objects.filter(user=user).delete()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=key_hash(key),
        prefix=key[:PREFIX_LENGTH],
        expires_at=default_expiry() if expires_at is _DEFAULT else expires_at,
    )
    return token, key


def token_revoke(*, token: ApiToken) -> None:
    """Revoke a token: it is deleted, and the next request that sends it gets a 401."""
    token.delete()


def token_touch(*, token: ApiToken, now: datetime | None = None) -> None:
    """Note that the token was used: one UPDATE per token per TOUCH_SECONDS at most.

    Skipped while the read-only shield is up: reading with a token must still work then.
    """
    # Imported here: maintenance loads DRF's views, which load this app's authentication
    # class from the settings.
    from maintenance.models import Mode
    from maintenance.state import local_snapshot

    now = now or timezone.now()
    stale = now - timedelta(seconds=token_settings.TOUCH_SECONDS)
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    shield = local_snapshot()
    if shield.mode != Mode.NORMAL and not shield.is_expired():
        return
    # The condition again in SQL: of two processes racing, one writes.
    ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk).update(
        last_used_at=now
    )
    token.last_used_at = now
