"""Reads of retention policies, categories and purge history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.db.models import QuerySet
from django.utils import timezone

from retention.models import DataRetentionPolicy, PurgeRun
from retention.registry import RetentionCategory, registry


@dataclass(frozen=True)
class CategoryStatus:
    """A registered category with the policy in force (or its default) and the rows due now."""

    category: RetentionCategory
    policy: DataRetentionPolicy | None
    days_to_keep: int
    cutoff: datetime
    #: None when the category's rows live in another database (a source) that does not answer
    rows_due: int | None

    @property
    def skip_reason(self) -> str:
        return purge_skip_reason(category=self.category.name, policy=self.policy)

    @property
    def purgeable(self) -> bool:
        return not self.skip_reason


def purge_skip_reason(*, category: str, policy: DataRetentionPolicy | None) -> str:
    """Why `category` is not purged under `policy` now, or "" when it is: the one eligibility rule.

    The purge (when queueing and again when a worker starts), the category list of the API,
    the admin's confirmation page and the dashboard all ask this. A legal hold always wins.
    """
    if category not in registry:
        return "category no longer registered"
    if policy is None:
        return "no retention policy"
    if not policy.enabled:
        return "policy disabled"
    if policy.legal_hold:
        return "legal hold"
    return ""


def policy_list() -> QuerySet[DataRetentionPolicy]:
    """Every policy, by category."""
    return DataRetentionPolicy.objects.order_by("category")


def policy_get(*, category: str) -> DataRetentionPolicy | None:
    """The policy of `category`, or None."""
    return DataRetentionPolicy.objects.filter(category=category).first()


def count_unless_unreachable(category: RetentionCategory, rows: QuerySet) -> int | None:
    """`rows.count()`; None when the category lives in another database (a source) that does not
    answer, so one service's outage never takes the lists and the dashboard down with it."""
    try:
        return rows.count()
    except DatabaseError:
        if category.using == DEFAULT_DB_ALIAS:
            raise
        return None


def category_rows_due(*, category: RetentionCategory, days_to_keep: int, now: datetime | None = None) -> int | None:
    """How many rows of `category` are older than now - days_to_keep (and meet its conditions)."""
    cutoff = category.cutoff(days_to_keep, now=now or timezone.now())
    return count_unless_unreachable(category, category.expired(cutoff))


def category_status_list(*, now: datetime | None = None) -> list[CategoryStatus]:
    """Every registered category with rows due now under its policy, or under its default period."""
    now = now or timezone.now()
    policies = {policy.category: policy for policy in DataRetentionPolicy.objects.all()}
    statuses = []
    for category in registry.all():
        policy = policies.get(category.name)
        days = policy.days_to_keep if policy else category.default_days_to_keep
        cutoff = category.cutoff(days, now=now)
        statuses.append(
            CategoryStatus(
                category=category,
                policy=policy,
                days_to_keep=days,
                cutoff=cutoff,
                rows_due=count_unless_unreachable(category, category.expired(cutoff)),
            )
        )
    return statuses


def purge_run_list() -> QuerySet[PurgeRun]:
    """The purge history, newest first."""
    return PurgeRun.objects.select_related("actor").order_by("-started_at", "-id")
