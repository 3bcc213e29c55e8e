"""Apprise: one URL reaches Discord, Teams, PagerDuty, Opsgenie, Telegram, ntfy, …"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import apprise as apprise_lib

from notifications.channels.base import ChannelBackend, DeliveryContext, DeliveryReport, OutgoingMessage
from notifications.channels.network import check_url
from notifications.conf import notify_settings
from notifications.exceptions import RetryableDeliveryError, UnresolvableHost, UnsafeTarget

# Schemes whose host part is a real host chosen by the user (generic HTTP endpoints);
# those pass the SSRF guard. Other schemes address a fixed vendor API with tokens.
HOSTED_SCHEMES = {"json", "jsons", "xml", "xmls", "form", "forms", "ntfy", "ntfys", "matrix", "matrixs"}


def _scheme(target: str) -> str:
    return target.split("://", 1)[0].lower() if "://" in target else ""


def _guard_host(target: str) -> None:
    scheme = _scheme(target)
    if scheme not in HOSTED_SCHEMES:
        return
    parts = urlsplit(target)
    secure = scheme.endswith("s")
    http_url = f"{'https' if secure else 'http'}://{parts.netloc.rsplit('@', 1)[-1]}/"
    check_url(http_url)


class AppriseBackend(ChannelBackend):
    """Deliver through Apprise; the URL's scheme must be in NOTIFICATIONS["APPRISE_SCHEMES"]."""

    channel_type = "apprise"

    def clean_target(self, target: str, config: dict[str, Any]) -> str:
        target = super().clean_target(target, config)
        scheme = _scheme(target)
        allowed = [s.lower() for s in notify_settings.APPRISE_SCHEMES]
        if scheme not in allowed:
            raise ValueError(f"Scheme {scheme or '(none)'!r} is not allowed; allowed: {', '.join(allowed)}.")
        if apprise_lib.Apprise.instantiate(target) is None:
            raise ValueError("Apprise does not understand this URL.")
        try:
            _guard_host(target)
        except UnsafeTarget as exc:
            raise ValueError(f"Target refused: {exc}.") from exc
        return target

    def send(self, message: OutgoingMessage, context: DeliveryContext) -> DeliveryReport:
        from notifications.exceptions import PermanentDeliveryError

        target = message.channel.target
        if _scheme(target) not in [s.lower() for s in notify_settings.APPRISE_SCHEMES]:
            raise PermanentDeliveryError("scheme no longer in the allowlist")
        try:
            _guard_host(target)
        except UnresolvableHost as exc:
            raise RetryableDeliveryError(f"network error: {exc}") from exc
        except UnsafeTarget as exc:
            raise PermanentDeliveryError(f"target refused: {exc}") from exc
        notifier = apprise_lib.Apprise()
        if not notifier.add(target):
            raise PermanentDeliveryError("Apprise does not understand this URL")
        body = message.body
        if message.payload:
            body += "\n\n" + json.dumps(message.payload, indent=2, ensure_ascii=False)
        with apprise_lib.LogCapture(level=apprise_lib.logging.WARNING) as log:
            ok = notifier.notify(body=body, title=message.subject or "")
        if not ok:
            raise RetryableDeliveryError("Apprise reported a failed delivery", response_excerpt=log.getvalue()[-1024:])
        return DeliveryReport(response_excerpt=log.getvalue()[-1024:])
