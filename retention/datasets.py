"""Retention tables that may be exported (exports' dataset registry), filtered as the API lists are."""

from exports.registry import Column, Dataset, register
from retention.filters import PolicyFilter, PurgeRunFilter
from retention.models import DataRetentionPolicy, PurgeRun

register(
    Dataset(
        name="retention.policies",
        description="Retention policies per data category.",
        queryset=DataRetentionPolicy.objects.all,
        columns=[
            "id",
            "created_at",
            "updated_at",
            "category",
            "days_to_keep",
            "enabled",
            "description",
            "legal_hold",
            "last_purged_at",
        ],
        filterset=PolicyFilter,
    )
)

register(
    Dataset(
        name="retention.purge_runs",
        description="Every purge and dry run: the audit trail.",
        queryset=PurgeRun.objects.all,
        columns=[
            "id",
            "category",
            "trigger",
            Column("actor_id"),
            "actor_name",
            "dry_run",
            "cutoff",
            "matched",
            "deleted",
            "started_at",
            "finished_at",
            "status",
            "error",
        ],
        filterset=PurgeRunFilter,
    )
)
