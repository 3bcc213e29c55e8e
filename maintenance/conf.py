"""The MAINTENANCE settings: defaults here, environment mapping in opsconsole/settings.py."""

from __future__ import annotations

from typing import Any

from opsconsole.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # How long a process trusts its own copy of the mode before asking the shared cache
    # again (env OPSCONSOLE_MAINTENANCE_LOCAL_TTL): every process sees a change within it.
    "LOCAL_TTL_SECONDS": 1.0,
    # A safety net only: the service publishes every change on commit; this bounds how long a
    # change made behind the service's back (raw SQL, a failed cache set) can stay invisible.
    "CACHE_TTL_SECONDS": 300,
}

maintenance_settings = AppSettings("MAINTENANCE", DEFAULTS)
