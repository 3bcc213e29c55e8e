"""Settings of the sources app: `SOURCES` in settings.py, read through `sources_settings`."""

from opsconsole.conf import AppSettings

DEFAULTS = {
    # {"<name>": {"URL": "<database URL>", "READ_ONLY": bool}}, from OPSCONSOLE_SOURCE_<NAME>_URL.
    "CONNECTIONS": {},
    # How often beat sends the outbox relay (OPSCONSOLE_SOURCE_RELAY_SECONDS).
    "RELAY_SECONDS": 1.0,
    # Rows one relay transaction claims.
    "RELAY_BATCH_SIZE": 200,
}

sources_settings = AppSettings("SOURCES", DEFAULTS)
