"""Shared by the channel types that POST JSON to a URL (webhook, slack)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from notifications.channels.base import MOVED_REFUSAL, REDACTED, ChannelBackend
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


def url_destination(url: str) -> tuple[str, ...]:
    """(scheme, host, port) of a URL: the server its credentials are sent to."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a number: no destination we could match
        return (scheme, url)
    default_port = {"https": 443, "http": 80}.get(scheme)
    return (scheme, (parts.hostname or "").lower(), str(port or default_port))


def unredact_url(new: str, current: str, *, last_segment: bool = False) -> str:
    """`new` with each REDACTED part (a URL password, a query value, Slack's last path segment)
    replaced by the stored one from `current`.

    Raise ValueError when the destination changed (a stored credential would follow the
    channel to another server) or when a REDACTED part has no stored counterpart (it would be
    stored literally as the credential).
    """
    if REDACTED not in new:
        return new
    if url_destination(new) != url_destination(current):
        stored_host = urlsplit(current).hostname or "the current destination"
        raise ValueError(f"{REDACTED} stands for a credential stored for {stored_host}, and {MOVED_REFUSAL}.")
    new_parts, stored = urlsplit(new), urlsplit(current)
    # Work on the raw (still percent-encoded) strings, so restored values keep their exact encoding.
    netloc = new_parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        stored_userinfo = stored.netloc.rsplit("@", 1)[0] if "@" in stored.netloc else ""
        stored_user, has_password, stored_password = stored_userinfo.partition(":")
        if password == REDACTED and has_password and user == stored_user:
            netloc = f"{user}:{stored_password}@{host}"
    path = new_parts.path
    if last_segment and path.rstrip("/").rpartition("/")[2] == REDACTED:
        stored_last = stored.path.rstrip("/").rpartition("/")[2]
        if stored_last:
            path = f"{path.rstrip('/').rpartition('/')[0]}/{stored_last}"
    stored_values: dict[str, list[str]] = {}
    for pair in stored.query.split("&") if stored.query else []:
        key, _, value = pair.partition("=")
        stored_values.setdefault(key, []).append(value)
    seen: dict[str, int] = {}
    query = []
    for pair in new_parts.query.split("&") if new_parts.query else []:
        key, sep, value = pair.partition("=")
        index = seen[key] = seen.get(key, -1) + 1
        if value == REDACTED and index < len(stored_values.get(key, [])):
            value = stored_values[key][index]
        query.append(f"{key}{sep}{value}")
    restored = urlunsplit((new_parts.scheme, netloc, path, "&".join(query), new_parts.fragment))
    if REDACTED in restored:
        raise ValueError(
            f"Holds {REDACTED} where no credential is stored (a new user, query key or path); give the real value."
        )
    return restored


class HttpChannelBackend(ChannelBackend):
    #: Whether the last path segment is the credential (Slack's incoming webhooks).
    secret_last_segment = False

    def clean_target(self, target: str, config: dict[str, Any]) -> str:
        return clean_http_url(target)

    def redact_target(self, target: str) -> str:
        return redact_url(target, last_segment=self.secret_last_segment)

    def destination(self, target: str) -> tuple[str, ...]:
        return url_destination(target)

    def unredact_target(self, new: str, current: str) -> str:
        if new == self.redact_target(current):
            return current
        return unredact_url(new, current, last_segment=self.secret_last_segment)
