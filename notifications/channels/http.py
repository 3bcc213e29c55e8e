"""Shared by the channel types that POST JSON to a URL (webhook, slack)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from notifications.channels.base import ChannelBackend
from notifications.channels.network import check_url
from notifications.conf import notify_settings
from notifications.exceptions import UnsafeTarget


def clean_http_url(target: str) -> str:
    """An https URL (plain http only where private targets are allowed, i.e. development) that passes the guard."""
    target = (target or "").strip()
    schemes = ["https", "http"] if notify_settings.ALLOW_PRIVATE else ["https"]
    try:
        URLValidator(schemes=schemes)(target)
    except ValidationError as exc:
        if target.lower().startswith("http://") and not notify_settings.ALLOW_PRIVATE:
            raise ValueError("Enter an https URL.") from exc
        raise ValueError("Enter a valid URL.") from exc
    try:
        check_url(target)
    except UnsafeTarget as exc:
        raise ValueError(f"Target refused: {exc}.") from exc
    return target


class HttpChannelBackend(ChannelBackend):
    def clean_target(self, target: str, config: dict[str, Any]) -> str:
        return clean_http_url(target)
