"""Apprise: one URL reaches Discord, Teams, PagerDuty, Opsgenie, Telegram, ntfy, …"""

from __future__ import annotations

import importlib
import json
from typing import Any

from notifications.channels.apprise_guard import UNGUARDED_SCHEMES, apprise_guard
from notifications.channels.base import REDACTED, ChannelBackend, DeliveryContext, DeliveryReport, OutgoingMessage
from notifications.channels.network import checked_addresses
from notifications.conf import notify_settings
from notifications.delivery import policy
from notifications.exceptions import PermanentDeliveryError, UnsafeTarget


def _apprise() -> Any:
    """The apprise package, imported on first use: it loads ~19 MB of plugins that processes
    without an Apprise channel (the web, an export worker) never need."""
    return importlib.import_module("apprise")


# Schemes that only talk to their vendor's fixed API: the URL's "host" is a token or an
# account id (discord://{webhook_id}/{token}), never a server to connect to. Any other
# scheme's host is treated as a server and guarded, so a scheme added to APPRISE_SCHEMES
# without an entry here fails closed (its token does not resolve and is refused).
FIXED_ENDPOINT_SCHEMES = {"slack", "discord", "pagerduty", "opsgenie", "tgram"}
# Plugin modes that use the vendor's hosted service instead of the URL's host:
# ntfy://topic posts to ntfy.sh; matrix://…?mode=t2bot to webhooks.t2bot.io.
HOSTED_SERVICE_MODES = {"ntfy": "cloud", "ntfys": "cloud", "matrix": "t2bot", "matrixs": "t2bot"}


def _scheme(target: str) -> str:
    return target.split("://", 1)[0].lower() if "://" in target else ""


def contacted_hosts(scheme: str, plugin: Any) -> list[tuple[str, int]]:
    """The (host, port) pairs chosen by the URL that an instantiated Apprise plugin connects to.

    Email plugins connect to their SMTP server (`?smtp=`, or the host, or a provider's
    known server), not to the host of the address; everything else to its host.
    """
    if scheme in FIXED_ENDPOINT_SCHEMES or getattr(plugin, "mode", None) == HOSTED_SERVICE_MODES.get(scheme, object()):
        return []
    port = plugin.port or (443 if getattr(plugin, "secure", False) else 80)
    smtp_host = getattr(plugin, "smtp_host", None)
    host = smtp_host or plugin.host
    if not host:
        raise UnsafeTarget("URL has no host")
    return [(host, port)]


def _guard_plugin(scheme: str, plugin: Any) -> None:
    # Refuses a URL that names a forbidden server before anything is sent (and at creation).
    # The connections themselves are guarded again by apprise_guard: a DNS answer that
    # changes after this check, or a redirect, cannot take the delivery elsewhere.
    for host, port in contacted_hosts(scheme, plugin):
        checked_addresses(host, port)


class AppriseBackend(ChannelBackend):
    """Deliver through Apprise; the URL's scheme must be in NOTIFICATIONS["APPRISE_SCHEMES"]."""

    channel_type = "apprise"

    def clean_target(self, target: str, config: dict[str, Any]) -> str:
        target = super().clean_target(target, config)
        scheme = _scheme(target)
        allowed = [s.lower() for s in notify_settings.APPRISE_SCHEMES]
        if scheme not in allowed:
            raise ValueError(f"Scheme {scheme or '(none)'!r} is not allowed; allowed: {', '.join(allowed)}.")
        if scheme in UNGUARDED_SCHEMES:
            raise ValueError(f"Scheme {scheme!r} opens connections the SSRF guard cannot check; it is never allowed.")
        plugin = _apprise().Apprise.instantiate(target)
        if plugin is None:
            raise ValueError("Apprise does not understand this URL.")
        try:
            _guard_plugin(scheme, plugin)
        except UnsafeTarget as exc:
            raise ValueError(f"Target refused: {exc}.") from exc
        return target

    def redact_target(self, target: str) -> str:
        # Apprise URLs carry tokens and passwords anywhere after the scheme: show the scheme only.
        return f"{_scheme(target) or 'apprise'}://{REDACTED}"

    def unredact_target(self, new: str, current: str) -> str:
        # Everything after the scheme is masked, so a changed URL cannot keep any part of the
        # stored one: its tokens might reach whatever server the new URL names.
        if new == self.redact_target(current):
            return current
        if REDACTED in new:
            raise ValueError(
                f"{REDACTED} stands for the stored Apprise URL, which is kept only when sent back unchanged "
                f"({self.redact_target(current)}); to change the URL, give all of it, credentials included."
            )
        return new

    def send(self, message: OutgoingMessage, context: DeliveryContext) -> DeliveryReport:
        target = message.channel.target
        scheme = _scheme(target)
        if scheme not in [s.lower() for s in notify_settings.APPRISE_SCHEMES] or scheme in UNGUARDED_SCHEMES:
            raise PermanentDeliveryError("scheme no longer in the allowlist")
        # The plugin that is checked is the one that sends, so both read the URL the same way.
        apprise_lib = _apprise()
        plugin = apprise_lib.Apprise.instantiate(target)
        if plugin is None:
            raise PermanentDeliveryError("Apprise does not understand this URL")
        try:
            _guard_plugin(scheme, plugin)
        except UnsafeTarget as exc:
            raise policy.delivery_error(policy.transport_ruling(exc)) from exc
        notifier = apprise_lib.Apprise()
        notifier.add(plugin)
        body = message.body
        if message.payload:
            body += "\n\n" + json.dumps(message.payload, indent=2, ensure_ascii=False)
        with apprise_guard() as guard, apprise_lib.LogCapture(level=apprise_lib.logging.WARNING) as log:
            ok = notifier.notify(body=body, title=message.subject or "")
        # What the guard refused is the cause, whatever the plugin made of it (no log excerpt then).
        excerpt = log.getvalue()[-1024:] if guard.refusal is None else ""
        ruling = policy.apprise_ruling(
            ok=ok, refusal=guard.refusal, redirect_status=guard.redirect_status, location=guard.redirect_location
        )
        if ruling.verdict != policy.Verdict.SENT:
            raise policy.delivery_error(ruling, http_status=guard.redirect_status, response_excerpt=excerpt)
        return DeliveryReport(response_excerpt=excerpt)
