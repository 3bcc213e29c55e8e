"""Every write of the sources app, by seam:

- tables: registering, changing and unregistering a source's tables (validated by introspection)
- relay: installing a source's outbox table and relaying its committed rows into the notifications outbox

The names below are the public surface; import them from `sources.services`.
"""

from sources.services.relay import (
    RelayResult,
    source_outbox_install,
    source_outbox_relay,
    source_outbox_relay_all,
    source_outbox_relay_until_empty,
    source_outbox_retry,
)
from sources.services.tables import (
    CheckedTable,
    source_table_delete,
    source_table_register,
    source_table_update,
    source_table_validate,
)

__all__ = [
    "CheckedTable",
    "RelayResult",
    "source_outbox_install",
    "source_outbox_relay",
    "source_outbox_relay_all",
    "source_outbox_relay_until_empty",
    "source_outbox_retry",
    "source_table_delete",
    "source_table_register",
    "source_table_update",
    "source_table_validate",
]
