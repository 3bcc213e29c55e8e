"""The project's own tables: the deployment-wide metric counters (opsconsole/metrics/counters.py)."""

from django.db import models


class MetricCounter(models.Model):
    """One shard of one Prometheus counter series; a series' value is the sum of its shards.

    Incremented in the transaction that records the event it counts, so every web and
    worker process adds to the same figure and a rolled-back event counts nothing.
    """

    family = models.CharField(max_length=128, help_text="Sample name, e.g. opsconsole_deliveries_total.")
    labels = models.CharField(max_length=512, help_text='Label values as sorted JSON, e.g. {"outcome": "sent"}.')
    shard = models.PositiveSmallIntegerField(default=0, help_text="Spreads concurrent increments over rows.")
    value = models.FloatField(default=0.0)

    class Meta:
        db_table = "opsconsole_metric_counters"
        constraints = [
            models.UniqueConstraint(fields=["family", "labels", "shard"], name="metric_counter_series_shard_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.family}{self.labels}[{self.shard}] = {self.value}"
