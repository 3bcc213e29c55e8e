"""Notification settings, read on every access so `override_settings` always applies.

The values live in `settings.NOTIFICATIONS` (one namespaced dict, read from the
environment in opsconsole/settings.py) plus `settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE`.
Keys missing from the dict fall back to the defaults below.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "BACKOFF_BASE": 5.0,
    "BACKOFF_MAX": 3600.0,
    "APPRISE_SCHEMES": [
        "mailto",
        "mailtos",
        "slack",
        "discord",
        "msteams",
        "pagerduty",
        "opsgenie",
        "tgram",
        "matrix",
        "ntfy",
    ],  # fmt: skip
    "PAUSE_AFTER_FAILURES": 20,
    "DELIVERY_CONCURRENCY": 16,
    # A claimed row is someone else's for this long. The sweep renews the lease of its rows
    # in flight every third of it, so it need not outlast the slowest delivery; a killed
    # worker's rows come back within it.
    "LEASE_SECONDS": 30.0,
    # How long a stopping sweep waits for deliveries already running before it hands them
    # back (a graceful stop then ends well inside Docker's 10 s).
    "STOP_TIMEOUT": 5.0,
    # Rows claimed per round trip of the sweep.
    "CLAIM_BATCH_SIZE": 64,
    # How long one beat-triggered sweep may keep claiming before it returns.
    "SWEEP_SECONDS": 50.0,
    "HTTP_TIMEOUT": 15.0,
    # After a rotation, deliveries carry a signature with the previous secret too for this
    # long, so receivers can switch secrets without dropping messages (Svix, Convoy: 24 h).
    "SECRET_GRACE_HOURS": 24.0,
}


class NotificationSettings:
    """`notify_settings.BACKOFF_BASE` etc.; always the current value of the setting."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"unknown NOTIFICATIONS setting {name!r}")
        return getattr(settings, "NOTIFICATIONS", {}).get(name, DEFAULTS[name])

    @property
    def ALLOW_PRIVATE(self) -> bool:  # noqa: N802 - reads like the other settings
        return bool(getattr(settings, "OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE", False))


notify_settings = NotificationSettings()
