"""Reads of API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apitokens.keys import key_hash
from apitokens.models import ApiToken


def token_for_key(key: str) -> ApiToken | None:
    """The token whose key this is, with its user; None for an unknown key."""
    return ApiToken.objects.select_related("user").filter(key_hash=key_hash(key)).first()


def tokens_visible_to(user: Any) -> QuerySet[ApiToken]:
    """A superuser sees every token; anyone else only their own."""
    tokens = ApiToken.objects.select_related("user")
    return tokens if user.is_superuser else tokens.filter(user_id=user.pk)
