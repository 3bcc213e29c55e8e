"""The notifications families of /metrics: the outbox, deliveries and their durations, the channels.

Deliveries are counted by `deliveries_count()` in the transaction that records them
(notifications/delivery/results.py), so the counter grows by exactly what was recorded;
the outbox and channel gauges are counted at scrape time over indexed columns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models import Count, Q
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric

from notifications.models import AttemptOutcome, ChannelType, NotificationChannel, NotificationOutbox
from notifications.models import NotificationStatus as OutboxStatus
from notifications.selectors import outbox_oldest_due_age
from opsconsole.metrics.counters import HistogramDeltas, SeriesKey, counter_totals, counters_add, labels_key
from opsconsole.metrics.registry import register

DELIVERIES = "opsconsole_deliveries_total"
# Seconds; a webhook's timeout is 10 s, an email's SMTP exchange may take longer.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _durations() -> HistogramDeltas:
    return HistogramDeltas("opsconsole_delivery_duration_seconds", DURATION_BUCKETS)


def deliveries_count(recorded: Iterable[tuple[str, str, float | None]]) -> None:
    """Count recorded attempts, given as (channel_type, outcome, seconds or None when unknown).

    Call it last in the transaction that records them: the counter rows are shared by
    every worker and stay locked until that transaction ends.
    """
    deltas: dict[SeriesKey, float] = defaultdict(float)
    durations = _durations()
    for channel_type, outcome, seconds in recorded:
        deltas[(DELIVERIES, labels_key({"channel_type": channel_type, "outcome": outcome}))] += 1
        if seconds is not None:
            durations.observe(seconds, {"channel_type": channel_type})
    counters_add({**deltas, **durations.deltas})


@register
def outbox_families() -> Iterator[Metric]:
    messages = GaugeMetricFamily(
        "opsconsole_outbox_messages", "Notifications in the outbox by status.", labels=["status"]
    )
    for status, rows in outbox_status_counts().items():
        messages.add_metric([status], rows)
    yield messages
    yield GaugeMetricFamily(
        "opsconsole_outbox_oldest_due_seconds",
        "Seconds the longest-waiting deliverable notification has been due (0: none is).",
        value=outbox_oldest_due_age() or 0.0,
    )


def outbox_status_counts() -> dict[str, int]:
    """Rows per status, every status present.

    Two index-only scans of the status index: the open statuses grouped (a small range),
    and the delivered rows (the bulk of the table) with a plain count(*). One GROUP BY
    over the whole table cost twice as much, hashing a million status strings.
    """
    open_statuses = [status for status in OutboxStatus if status != OutboxStatus.SENT]
    counts = dict(
        NotificationOutbox.objects.filter(status__in=open_statuses)
        .values_list("status")
        .annotate(rows=Count("*"))
        .order_by()
    )
    counts[OutboxStatus.SENT.value] = NotificationOutbox.objects.filter(status=OutboxStatus.SENT).count()
    return {status.value: counts.get(status.value, 0) for status in OutboxStatus}


@register
def delivery_families() -> Iterator[Metric]:
    durations = _durations()
    totals = counter_totals([DELIVERIES, *durations.sample_names()])
    types = sorted({*ChannelType.values, *(dict(labels).get("channel_type", "") for _, labels in totals)} - {""})
    deliveries = CounterMetricFamily(
        DELIVERIES, "Delivery attempts recorded, by channel type and outcome.", labels=["channel_type", "outcome"]
    )
    histogram = HistogramMetricFamily(
        "opsconsole_delivery_duration_seconds", "How long delivery attempts took.", labels=["channel_type"]
    )
    for channel_type in types:
        for outcome in AttemptOutcome.values:
            key = (DELIVERIES, labels_key({"channel_type": channel_type, "outcome": outcome}))
            deliveries.add_metric([channel_type, outcome], totals.get(key, 0.0))
        buckets, seconds = durations.cumulative(totals, {"channel_type": channel_type})
        histogram.add_metric([channel_type], buckets=buckets, sum_value=seconds)
    yield deliveries
    yield histogram


@register
def channel_families() -> Iterator[Metric]:
    states = NotificationChannel.objects.aggregate(
        state_active=Count("id", filter=Q(active=True, paused=False)),
        state_paused=Count("id", filter=Q(active=True, paused=True)),
        state_inactive=Count("id", filter=Q(active=False)),
    )
    channels = GaugeMetricFamily(
        "opsconsole_channels",
        "Channels by state: active (delivering), paused (holding their messages), inactive (accepting none).",
        labels=["state"],
    )
    for state in ("active", "paused", "inactive"):
        channels.add_metric([state], states[f"state_{state}"])
    yield channels
