"""Reads behind the operator dashboard.

Every figure is aggregated in the database over an indexed column, so the page costs a
small, fixed number of queries however large the outbox and the attempt log grow:

- outbox depth: GROUP BY status over the rows not yet delivered (status index; the
  delivered rows, the bulk of the table, are counted over the chart's window instead);
- deliveries: attempts GROUP BY hour and outcome over the last 7 days (started_at index),
  folded into the 24-hour and 7-day series in Python (at most 7 × 24 × 3 rows);
- channel health: outbox rows created in the last 24 hours GROUP BY channel (created_at index);
- exports, purge runs, policies: short lists by primary key or an indexed column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from exports.models import ExportJob, JobStatus
from maintenance.models import MaintenanceState, Mode
from maintenance.selectors import maintenance_snapshot
from notifications.models import AttemptOutcome, NotificationAttempt, NotificationChannel, NotificationOutbox
from notifications.models import NotificationStatus as OutboxStatus
from retention.models import DataRetentionPolicy, PurgeRun

# Statuses whose rows are still in flight or need an operator; `sent` is history.
OUTBOX_OPEN_STATUSES = [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED, OutboxStatus.CANCELLED]
EXPORT_ACTIVE_STATUSES = [JobStatus.PENDING, JobStatus.RUNNING]
EXPORT_FINISHED_STATUSES = [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED]
CHANNEL_LIMIT = 20
EXPORT_LIMIT = 8
PURGE_RUN_LIMIT = 8
DUE_COUNT_CAP = 10_000


def admin_changelist_url(model: type, **filters: Any) -> str | None:
    """The admin changelist of `model` filtered by `filters`, or None while it is not registered."""
    try:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(filters)}" if filters else url


def admin_change_url_template(model: type) -> str | None:
    """The admin change URL of `model` with `0` standing for the primary key, or None."""
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[0])
    except NoReverseMatch:
        return None


def _change_url(template: str | None, pk: int) -> str | None:
    return template.replace("/0/", f"/{pk}/", 1) if template else None


# --- maintenance --------------------------------------------------------------


def maintenance_summary() -> dict[str, Any]:
    """The mode in force, who set it, until when, and the link to the maintenance screen.

    Read through the maintenance app's snapshot (per-process memo, then the shared cache),
    the same state the shield and the banner use on this request, so it costs no query
    of its own and shows an expired `until` as normal, as the shield does.
    """
    state = maintenance_snapshot()
    return {
        "mode": state.mode,
        "mode_label": Mode(state.mode).label,
        "is_normal": state.mode == Mode.NORMAL,
        "message": state.message,
        "until": state.until,
        "updated_at": state.updated_at,
        "updated_by": state.updated_by,
        "screen_url": admin_changelist_url(MaintenanceState) or "/admin/maintenance/maintenancestate/",
    }


# --- notifications -------------------------------------------------------------


def outbox_depth() -> list[dict[str, Any]]:
    """Rows per open status (pending, sending, failed, cancelled), zeros included, with changelist links."""
    counts = dict(
        NotificationOutbox.objects.filter(status__in=OUTBOX_OPEN_STATUSES)
        .values_list("status")
        .annotate(rows=Count("id"))
        .order_by()
    )
    return [
        {
            "status": status.value,
            "label": status.label,
            "rows": counts.get(status.value, 0),
            "url": admin_changelist_url(NotificationOutbox, status__exact=status.value),
        }
        for status in OUTBOX_OPEN_STATUSES
    ]


@dataclass
class DeliverySeries:
    """Attempts per bucket and outcome, ready for a stacked bar chart."""

    labels: list[str] = field(default_factory=list)
    starts: list[str] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def add_bucket(self, *, label: str, start: datetime, counts: dict[str, int]) -> None:
        self.labels.append(label)
        self.starts.append(start.isoformat())
        self.sent.append(counts.get(AttemptOutcome.SENT, 0))
        self.retry.append(counts.get(AttemptOutcome.RETRY, 0))
        self.failed.append(counts.get(AttemptOutcome.FAILED, 0))

    @property
    def totals(self) -> dict[str, int]:
        return {"sent": sum(self.sent), "retry": sum(self.retry), "failed": sum(self.failed)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "starts": self.starts,
            "sent": self.sent,
            "retry": self.retry,
            "failed": self.failed,
            "totals": self.totals,
        }


def delivery_series(*, now: datetime | None = None) -> dict[str, DeliverySeries]:
    """Delivery attempts by outcome per hour over the last 24 hours and per day over the last 7 days."""
    now = timezone.localtime(now or timezone.now())
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    first_hour = this_hour - timedelta(hours=23)
    first_day = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=6)

    per_hour: dict[datetime, dict[str, int]] = {}
    rows = (
        NotificationAttempt.objects.filter(started_at__gte=first_day)
        .annotate(hour=TruncHour("started_at"))
        .values_list("hour", "outcome")
        .annotate(attempts=Count("id"))
        .order_by()
    )
    for hour, outcome, attempts in rows:
        bucket = per_hour.setdefault(timezone.localtime(hour), {})
        bucket[outcome] = bucket.get(outcome, 0) + attempts

    hourly = DeliverySeries()
    for offset in range(24):
        start = first_hour + timedelta(hours=offset)
        hourly.add_bucket(label=f"{start:%H}:00", start=start, counts=per_hour.get(start, {}))

    per_day: dict[Any, dict[str, int]] = {}
    for hour, counts in per_hour.items():
        day = per_day.setdefault(hour.date(), {})
        for outcome, attempts in counts.items():
            day[outcome] = day.get(outcome, 0) + attempts
    daily = DeliverySeries()
    for offset in range(7):
        start = first_day + timedelta(days=offset)
        daily.add_bucket(label=f"{start:%a %d}", start=start, counts=per_day.get(start.date(), {}))
    return {"hourly": hourly, "daily": daily}


def channel_health(*, now: datetime | None = None, limit: int = CHANNEL_LIMIT) -> list[dict[str, Any]]:
    """Channels, failing first, with the messages and attempts of the last 24 hours and their failure rate.

    Counted over the outbox rows created in the window (created_at index), not by joining
    the attempt log: on PostgreSQL that join hashes the whole outbox (145 ms at 1M rows)
    while this reads only the window (17 ms). A message's `attempts` counts its tries and
    a delivered one succeeded exactly once, so failed attempts = attempts - delivered.
    """
    since = (now or timezone.now()) - timedelta(hours=24)
    channels = list(
        NotificationChannel.objects.order_by("-consecutive_failures", "name").values(
            "id",
            "name",
            "channel_type",
            "active",
            "paused",
            "consecutive_failures",
            "last_error",
            "last_failure_at",
            "last_success_at",
        )[:limit]
    )
    windows = {
        row["channel_id"]: row
        for row in NotificationOutbox.objects.filter(
            created_at__gte=since, channel_id__in=[channel["id"] for channel in channels]
        )
        .values("channel_id")
        .annotate(
            messages=Count("id"),
            delivered=Count("id", filter=Q(status=OutboxStatus.SENT)),
            gave_up=Count("id", filter=Q(status=OutboxStatus.FAILED)),
            attempts=Sum("attempts"),
        )
        .order_by()
    }
    change_url = admin_change_url_template(NotificationChannel)
    for channel in channels:
        window = windows.get(channel["id"], {})
        attempts, delivered = window.get("attempts") or 0, window.get("delivered", 0)
        failed_attempts = max(attempts - delivered, 0)
        channel.update(
            messages_24h=window.get("messages", 0),
            delivered_24h=delivered,
            gave_up_24h=window.get("gave_up", 0),
            attempts_24h=attempts,
            failed_attempts_24h=failed_attempts,
            failure_rate=failed_attempts / attempts if attempts else None,
            failure_pct=round(100 * failed_attempts / attempts, 1) if attempts else None,
            healthy=channel["consecutive_failures"] == 0 and channel["active"] and not channel["paused"],
            url=_change_url(change_url, channel["id"]),
            failed_url=admin_changelist_url(
                NotificationOutbox, channel__id__exact=channel["id"], status__exact=OutboxStatus.FAILED
            ),
        )
    return channels


# --- exports ------------------------------------------------------------------


def _export_row(job: ExportJob, change_url: str | None) -> dict[str, Any]:
    progress = job.progress
    return {
        "id": job.pk,
        "job_type": job.job_type,
        "format": job.format,
        "status": job.status,
        "status_label": job.get_status_display(),
        "requested_by": job.requested_by or "",
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "rows_written": job.rows_written,
        "total_rows": job.total_rows,
        "progress_pct": None if progress is None else round(100 * progress, 1),
        "file_size": job.file_size,
        "error_message": job.error_message or "",
        "url": _change_url(change_url, job.pk),
        "download_url": f"/system/exports/{job.pk}/download" if job.status == JobStatus.COMPLETED else None,
    }


_EXPORT_FIELDS = [
    "id",
    "created_at",
    "started_at",
    "completed_at",
    "job_type",
    "format",
    "status",
    "requested_by",
    "rows_written",
    "total_rows",
    "file_size",
    "error_message",
]


def exports_active(*, limit: int = EXPORT_LIMIT) -> list[dict[str, Any]]:
    """Pending and running export jobs, oldest first, with their progress."""
    change_url = admin_change_url_template(ExportJob)
    jobs = ExportJob.objects.filter(status__in=EXPORT_ACTIVE_STATUSES).only(*_EXPORT_FIELDS).order_by("id")[:limit]
    return [_export_row(job, change_url) for job in jobs]


def exports_recent(*, limit: int = EXPORT_LIMIT) -> list[dict[str, Any]]:
    """The latest finished export jobs (completed, failed or cancelled), newest first."""
    change_url = admin_change_url_template(ExportJob)
    jobs = ExportJob.objects.filter(status__in=EXPORT_FINISHED_STATUSES).only(*_EXPORT_FIELDS).order_by("-id")[:limit]
    return [_export_row(job, change_url) for job in jobs]


# --- retention ----------------------------------------------------------------


def purge_runs_recent(*, limit: int = PURGE_RUN_LIMIT) -> list[dict[str, Any]]:
    """The latest purge runs and dry runs, newest first."""
    change_url = admin_change_url_template(PurgeRun)
    fields = ["id", "category", "trigger", "actor_name", "dry_run", "matched", "deleted", "started_at", "status"]
    runs = PurgeRun.objects.order_by("-started_at", "-id").values(*fields, "finished_at")[:limit]
    return [{**run, "url": _change_url(change_url, run["id"])} for run in runs]


def capped_due_counts(
    categories: Iterable[Any], days_by_category: dict[str, int], *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Rows due per category under its policy (or its default period), counted up to DUE_COUNT_CAP.

    Measured on PostgreSQL: counting 937k due outbox rows took ~200 ms, the same count
    stopped at 10,001 rows 12 ms; a backlog that large reads "10000+" on the dashboard
    (the retention screen and the purge preview give the exact figure).
    """
    now = now or timezone.now()
    rows = []
    for category in categories:
        days = days_by_category.get(category.name, category.default_days_to_keep)
        due = category.expired(category.cutoff(days, now=now))[: DUE_COUNT_CAP + 1].count()
        rows.append(
            {
                "category": category.name,
                "days_to_keep": days,
                "due": min(due, DUE_COUNT_CAP),
                "due_capped": due > DUE_COUNT_CAP,
            }
        )
    return rows


def _due_counts_provider() -> Callable[[dict[str, int]], list[dict[str, Any]]] | None:
    """How to count the rows due per retention category, given the policies' days; None without the engine.

    The engine's registry (retention/registry.py: registry.all(), each category's
    cutoff() and expired()) is counted here with a cap; an engine that only offers
    `retention.selectors.categories_with_due_counts()` (dicts with "category", "due",
    "days_to_keep") is used as it is. Without either, the dashboard lists the policies.
    """
    try:
        from retention.registry import registry
    except ImportError:
        pass
    else:
        return lambda days_by_category: capped_due_counts(registry.all(), days_by_category)
    try:
        from retention.selectors import categories_with_due_counts
    except ImportError:
        return None
    return lambda _days_by_category: categories_with_due_counts()


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
            entry = policies.setdefault(
                row["category"],
                {
                    "id": None,
                    "category": row["category"],
                    "days_to_keep": row.get("days_to_keep"),
                    "enabled": False,
                    "legal_hold": False,
                    "last_purged_at": None,
                },
            )
            entry["due"] = row.get("due")
            entry["due_capped"] = bool(row.get("due_capped"))
    change_url = admin_change_url_template(DataRetentionPolicy)
    rows = []
    for policy in sorted(policies.values(), key=lambda p: p["category"]):
        policy["url"] = _change_url(change_url, policy["id"]) if policy["id"] else None
        rows.append(policy)
    return {"policies": rows, "due_counts_available": provider is not None}


# --- everything ---------------------------------------------------------------

PANEL_PERMISSIONS = {
    "maintenance": "maintenance.view_maintenancestate",
    "notifications": "notifications.view_notificationoutbox",
    "channels": "notifications.view_notificationchannel",
    "exports": "exports.view_exportjob",
    "retention": "retention.view_dataretentionpolicy",
    "purge_runs": "retention.view_purgerun",
}


def visible_panels(user: Any) -> set[str]:
    """The dashboard panels whose data `user` may view (Django model view permissions)."""
    return {panel for panel, perm in PANEL_PERMISSIONS.items() if user.has_perm(perm)}


def chart_data(*, now: datetime | None = None) -> dict[str, Any]:
    """What the charts draw: delivery series and outbox depth, as plain JSON values."""
    series = delivery_series(now=now)
    return {
        "generated_at": timezone.now().isoformat(),
        "hourly": series["hourly"].as_dict(),
        "daily": series["daily"].as_dict(),
        "outbox_depth": {row["status"]: row["rows"] for row in outbox_depth()},
    }


def dashboard_figures(*, user: Any, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of the dashboard that `user` may see, in a fixed number of queries."""
    panels = visible_panels(user)
    figures: dict[str, Any] = {"panels": panels, "links": _links()}
    if "maintenance" in panels:
        figures["maintenance"] = maintenance_summary()
    if "notifications" in panels:
        series = delivery_series(now=now)
        figures["outbox_depth"] = outbox_depth()
        figures["deliveries"] = {"hourly": series["hourly"].as_dict(), "daily": series["daily"].as_dict()}
    if "channels" in panels:
        figures["channels"] = channel_health(now=now)
    if "exports" in panels:
        figures["exports_active"] = exports_active()
        figures["exports_recent"] = exports_recent()
    if "retention" in panels:
        figures["retention"] = retention_overview()
    if "purge_runs" in panels:
        figures["purge_runs"] = purge_runs_recent()
    return figures


def _links() -> dict[str, str | None]:
    return {
        "outbox": admin_changelist_url(NotificationOutbox),
        "attempts": admin_changelist_url(NotificationAttempt),
        "attempts_failed": admin_changelist_url(NotificationAttempt, outcome__exact=AttemptOutcome.FAILED),
        "channels": admin_changelist_url(NotificationChannel),
        "exports": admin_changelist_url(ExportJob),
        "exports_running": admin_changelist_url(ExportJob, status__exact=JobStatus.RUNNING),
        "exports_failed": admin_changelist_url(ExportJob, status__exact=JobStatus.FAILED),
        "policies": admin_changelist_url(DataRetentionPolicy),
        "purge_runs": admin_changelist_url(PurgeRun),
    }
