"""The retention panels of the dashboard: policies with the rows now due, and the latest purge runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from opsconsole.dashboard import registry
from opsconsole.dashboard.links import admin_change_url_template, admin_changelist_url, change_url
from retention.models import DataRetentionPolicy, PurgeRun
from retention.registry import RetentionCategory
from retention.registry import registry as categories
from retention.selectors import count_unless_unreachable

PURGE_RUN_LIMIT = 8
DUE_COUNT_CAP = 10_000

DueCounter = Callable[[dict[str, int]], list[dict[str, Any]]]


def purge_runs_recent(*, limit: int = PURGE_RUN_LIMIT) -> list[dict[str, Any]]:
    """The latest purge runs and dry runs, newest first."""
    url_template = admin_change_url_template(PurgeRun)
    fields = ["id", "category", "trigger", "actor_name", "dry_run", "matched", "deleted", "started_at", "status"]
    runs = PurgeRun.objects.order_by("-started_at", "-id").values(*fields, "finished_at")[:limit]
    return [{**run, "started_by": purge_started_by(run), "url": change_url(url_template, run["id"])} for run in runs]


def purge_started_by(run: dict[str, Any]) -> str:
    """The trigger and who asked, each said once: `command (root@vm)`, `admin, ana`, `schedule`."""
    trigger, actor = run["trigger"], run["actor_name"] or ""
    if not actor or actor == trigger:
        return trigger
    if actor.startswith(f"{trigger} ") or actor.startswith(f"{trigger}:"):
        return actor  # the command records itself as "command (user@host)"
    return f"{trigger}, {actor}"


def capped_due_counts(
    categories: Iterable[RetentionCategory], days_by_category: dict[str, int], *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Rows due per category under its policy (or its default period), counted up to DUE_COUNT_CAP.

    Measured on PostgreSQL: counting 937k due outbox rows took ~200 ms, the same count
    stopped at 10,001 rows 12 ms; a backlog that large reads "10000+" on the dashboard
    (the retention screen and the purge preview give the exact figure). Which rows are due
    is the category's rule (cutoff() and expired(), retention/registry.py), as for a purge.
    """
    now = now or timezone.now()
    rows = []
    for category in categories:
        days = days_by_category.get(category.name, category.default_days_to_keep)
        due = count_unless_unreachable(category, category.expired(category.cutoff(days, now=now))[: DUE_COUNT_CAP + 1])
        rows.append(
            {
                "category": category.name,
                "days_to_keep": days,
                "due": None if due is None else min(due, DUE_COUNT_CAP),
                "due_capped": due is not None and due > DUE_COUNT_CAP,
            }
        )
    return rows


def _due_counts_provider() -> DueCounter | None:
    """How the panel counts the rows due, given the policies' days (None: list the policies only)."""
    return lambda days_by_category: capped_due_counts(categories.all(), days_by_category)


def _policy_without_row(category: str, days_to_keep: int | None) -> dict[str, Any]:
    return {
        "id": None,
        "category": category,
        "days_to_keep": days_to_keep,
        "enabled": False,
        "legal_hold": False,
        "last_purged_at": None,
    }


def retention_overview() -> dict[str, Any]:
    """Retention policies and registered categories with the rows now due (when the engine can count them)."""
    policies = {
        policy["category"]: {**policy, "due": None, "due_capped": False}
        for policy in DataRetentionPolicy.objects.order_by("category").values(
            "id", "category", "days_to_keep", "enabled", "legal_hold", "last_purged_at"
        )
    }
    provider = _due_counts_provider()
    if provider is not None:
        days_by_category = {category: policy["days_to_keep"] for category, policy in policies.items()}
        for row in provider(days_by_category):
            entry = policies.setdefault(row["category"], _policy_without_row(row["category"], row.get("days_to_keep")))
            entry["due"] = row.get("due")
            entry["due_capped"] = bool(row.get("due_capped"))
    url_template = admin_change_url_template(DataRetentionPolicy)
    rows = []
    for policy in sorted(policies.values(), key=lambda p: p["category"]):
        policy["url"] = change_url(url_template, policy["id"]) if policy["id"] else None
        rows.append(policy)
    return {"policies": rows, "due_counts_available": provider is not None}


def retention_figures(*, now: datetime | None = None) -> dict[str, Any]:
    return {"retention": retention_overview()}


def purge_runs_figures(*, now: datetime | None = None) -> dict[str, Any]:
    return {"purge_runs": purge_runs_recent()}


@registry.register_links
def links() -> dict[str, str | None]:
    return {"policies": admin_changelist_url(DataRetentionPolicy), "purge_runs": admin_changelist_url(PurgeRun)}


registry.register(
    registry.Panel(name="retention", permission="retention.view_dataretentionpolicy", figures=retention_figures)
)
registry.register(registry.Panel(name="purge_runs", permission="retention.view_purgerun", figures=purge_runs_figures))
