"""Shared by the channel types that POST JSON to a URL (webhook, slack)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from notifications.channels.base import REDACTED, ChannelBackend
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


def redact_url(url: str, *, last_segment: bool = False) -> str:
    """The URL with its credentials hidden: a userinfo password, every query value and,
    where the path itself is the key (Slack's incoming webhooks), the last path segment."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{user}@{host}"
    path = parts.path
    if last_segment and path.strip("/"):
        head, _, _ = path.rstrip("/").rpartition("/")
        path = f"{head}/{REDACTED}"
    query = urlencode([(key, REDACTED) for key, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, path, query, ""))


class HttpChannelBackend(ChannelBackend):
    def clean_target(self, target: str, config: dict[str, Any]) -> str:
        return clean_http_url(target)

    def redact_target(self, target: str) -> str:
        return redact_url(target)
