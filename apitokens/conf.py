"""API token settings through the project's one accessor (opsconsole/conf.py).

The values live in `settings.API_TOKENS` (read from the environment in
opsconsole/settings.py); keys missing from the dict fall back to the defaults below.
"""

from __future__ import annotations

from typing import Any

from opsconsole.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Days a new token stays valid; None: no expiry.
    "TTL_DAYS": None,
    # `last_used_at` is written at most once per this many seconds per token, so a busy
    # client costs one UPDATE a minute, not one per request.
    "TOUCH_SECONDS": 60,
}


token_settings = AppSettings("API_TOKENS", DEFAULTS)
