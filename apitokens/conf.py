"""API token settings, read on every access so `override_settings` always applies.

The values live in `settings.API_TOKENS` (read from the environment in
opsconsole/settings.py); keys missing from the dict fall back to the defaults below.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Days a new token stays valid; None: no expiry.
    "TTL_DAYS": None,
    # `last_used_at` is written at most once per this many seconds per token, so a busy
    # client costs one UPDATE a minute, not one per request.
    "TOUCH_SECONDS": 60,
}


class ApiTokenSettings:
    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"unknown API_TOKENS setting {name!r}")
        return getattr(settings, "API_TOKENS", {}).get(name, DEFAULTS[name])


token_settings = ApiTokenSettings()
