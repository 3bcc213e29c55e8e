"""Every registered source table is an export dataset `<source>.<table>` (exports' dataset registry).

Asked on every lookup, so a table registered or removed in one process is seen by all of
them; the model and dataset of a table are built once per version of its row.
"""

from __future__ import annotations

from exports.registry import Dataset, register_provider


def source_datasets() -> list[Dataset]:
    from sources.connections import configured
    from sources.models import SourceTable
    from sources.tables import table_parts

    sources = configured()
    if not sources:  # no query at all: the registries are asked often, from start-up on
        return []
    return [table_parts(table)[1] for table in SourceTable.objects.filter(source__in=list(sources))]


register_provider(source_datasets)
