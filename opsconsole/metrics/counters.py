"""Deployment-wide counters: one table, added to with an upsert in the event's own transaction.

A process's memory would count only what that process saw (a scrape reaching one of four
web replicas would see a quarter), so counters live in the database. Each increment is one
`INSERT … ON CONFLICT DO UPDATE SET value = value + excluded.value` for all the series an
event touches. Concurrent writers would queue on one hot row until their transaction
commits, so each call picks one of SHARDS rows per series at random and a scrape sums them;
rows are written in sorted order, so two transactions never lock them in opposite orders
(and callers add their counts last in their transaction, holding the lock briefly).
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.db import connections

from opsconsole.models import MetricCounter

SHARDS = 8

Labels = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, Labels]


def labels_key(labels: Mapping[str, str] | None = None) -> Labels:
    return tuple(sorted((labels or {}).items()))


def _encode(labels: Labels) -> str:
    return json.dumps(dict(labels), sort_keys=True, separators=(",", ":"))


def counters_add(deltas: Mapping[SeriesKey, float], *, using: str = "default") -> None:
    """Add each delta to its series (family, labels); zero deltas are skipped."""
    rows = sorted((family, _encode(labels), float(value)) for (family, labels), value in deltas.items() if value)
    if not rows:
        return
    shard = random.randrange(SHARDS)
    connection = connections[using]
    table = connection.ops.quote_name(MetricCounter._meta.db_table)
    placeholders = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params: list[str | int | float] = []
    for family, labels, value in rows:
        params += [family, labels, shard, value]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (family, labels, shard, value) VALUES {placeholders} "
            f"ON CONFLICT (family, labels, shard) DO UPDATE SET value = {table}.value + excluded.value",
            params,
        )


def counter_totals(families: Iterable[str], *, using: str = "default") -> dict[SeriesKey, float]:
    """The value of every stored series of these sample names (shards summed)."""
    totals: dict[SeriesKey, float] = defaultdict(float)
    rows = MetricCounter.objects.using(using).filter(family__in=list(families)).values_list("family", "labels", "value")
    for family, labels, value in rows:
        totals[(family, labels_key(json.loads(labels)))] += value
    return dict(totals)


class HistogramDeltas:
    """Observations of one histogram family, turned into counter deltas for `counters_add`.

    Stored per bucket (not cumulative, so one observation touches one bucket row) plus
    `_sum` (the count is the +Inf bucket); `cumulative()` rebuilds Prometheus' `le` buckets at scrape time.
    """

    def __init__(self, family: str, buckets: Sequence[float]) -> None:
        self.family = family
        self.buckets = tuple(sorted(buckets))
        self.deltas: dict[SeriesKey, float] = defaultdict(float)

    def observe(self, value: float, labels: Mapping[str, str]) -> None:
        bound = next((b for b in self.buckets if value <= b), math.inf)
        self.deltas[(f"{self.family}_bucket", labels_key({**labels, "le": _le(bound)}))] += 1
        self.deltas[(f"{self.family}_sum", labels_key(labels))] += value

    def sample_names(self) -> list[str]:
        return [f"{self.family}_bucket", f"{self.family}_sum"]

    def cumulative(
        self, totals: Mapping[SeriesKey, float], labels: Mapping[str, str]
    ) -> tuple[list[tuple[str, float]], float]:
        """The (le, cumulative count) buckets ending with +Inf, and the sum, of one label set."""
        running = 0.0
        buckets = []
        for bound in (*self.buckets, math.inf):
            running += totals.get((f"{self.family}_bucket", labels_key({**labels, "le": _le(bound)})), 0.0)
            buckets.append((_le(bound), running))
        return buckets, totals.get((f"{self.family}_sum", labels_key(labels)), 0.0)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))
