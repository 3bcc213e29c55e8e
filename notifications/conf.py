"""Notification settings: `notify_settings.LEASE_SECONDS`, read on every access (opsconsole/conf.py).

The values live in `settings.NOTIFICATIONS` (filled from the environment in
opsconsole/settings.py); keys missing there fall back to the defaults below. The SSRF
switch stays the top-level setting OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE, read through
`notify_settings.ALLOW_PRIVATE`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from opsconsole.conf import AppSettings

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
    # Rows claimed per round trip of the sweep. The claim and the recording of results run
    # on the sweep's one thread: bigger batches mean fewer round trips per message there,
    # which is what limits a fast channel (SMTP on a LAN); 256 rows of 16 threads stay far
    # inside one lease.
    "CLAIM_BATCH_SIZE": 256,
    # How long one sweep (a beat-triggered task, a loop of the dispatch command) may keep
    # claiming before it returns. Not beat's interval: that is OPSCONSOLE_NOTIFY_SWEEP_SECONDS.
    "SWEEP_MAX_SECONDS": 50.0,
    "HTTP_TIMEOUT": 15.0,
    # After a rotation, deliveries carry a signature with the previous secret too for this
    # long, so receivers can switch secrets without dropping messages (Svix, Convoy: 24 h).
    "SECRET_GRACE_HOURS": 24.0,
}


class NotificationSettings(AppSettings):
    """The NOTIFICATIONS namespace, plus the project-wide SSRF switch."""

    @property
    def ALLOW_PRIVATE(self) -> bool:  # noqa: N802 - reads like the other settings
        return bool(getattr(settings, "OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE", False))


notify_settings = NotificationSettings("NOTIFICATIONS", DEFAULTS)
