"""GET /metrics: every family, the bearer token, the counter store, a database that is down."""

import pytest
from django.db import OperationalError, connection, transaction
from prometheus_client.parser import text_string_to_metric_families

from maintenance.services import maintenance_set_mode
from maintenance.state import CACHE_KEY
from opsconsole import liveness
from opsconsole.metrics.counters import SHARDS, HistogramDeltas, counter_totals, counters_add, labels_key
from opsconsole.metrics.testing import sample, scrape
from opsconsole.models import MetricCounter

pytestmark = pytest.mark.django_db

FAMILIES = {
    "opsconsole_outbox_messages": "gauge",
    "opsconsole_outbox_oldest_due_seconds": "gauge",
    "opsconsole_deliveries": "counter",  # samples opsconsole_deliveries_total
    "opsconsole_delivery_duration_seconds": "histogram",
    "opsconsole_channels": "gauge",
    "opsconsole_export_jobs": "gauge",
    "opsconsole_export_rows": "counter",
    "opsconsole_purge_rows_deleted": "counter",
    "opsconsole_maintenance_mode": "gauge",
    "opsconsole_workers": "gauge",
    "opsconsole_beat_last_run_timestamp_seconds": "gauge",
}


def test_every_family_is_served_with_its_type(anon_api):
    families = scrape(anon_api)
    assert {name: families[name].type for name in FAMILIES if name in families} == FAMILIES


def test_every_status_mode_and_state_is_present_at_zero_on_an_empty_install(anon_api):
    families = scrape(anon_api)
    for status in ("pending", "sending", "sent", "failed", "cancelled"):
        assert sample(families, "opsconsole_outbox_messages", status=status) == 0
    for status in ("pending", "running", "completed", "failed", "cancelled"):
        assert sample(families, "opsconsole_export_jobs", status=status) == 0
    for state in ("active", "paused", "inactive"):
        assert sample(families, "opsconsole_channels", state=state) == 0
    for outcome in ("sent", "retry", "failed"):
        assert sample(families, "opsconsole_deliveries_total", channel_type="webhook", outcome=outcome) == 0
    assert sample(families, "opsconsole_delivery_duration_seconds_count", channel_type="email") == 0
    assert sample(families, "opsconsole_purge_rows_deleted_total", category="maintenance.events") == 0
    assert sample(families, "opsconsole_export_rows_total") == 0
    assert sample(families, "opsconsole_outbox_oldest_due_seconds") == 0


def test_the_maintenance_gauge_follows_a_mode_change(anon_api):
    def modes():
        families = scrape(anon_api)
        return {
            m: sample(families, "opsconsole_maintenance_mode", mode=m) for m in ("normal", "read_only", "maintenance")
        }

    assert modes() == {"normal": 1, "read_only": 0, "maintenance": 0}
    maintenance_set_mode(mode="read_only", reason="test")
    assert modes() == {"normal": 0, "read_only": 1, "maintenance": 0}
    maintenance_set_mode(mode="normal", reason="test")
    assert modes() == {"normal": 1, "read_only": 0, "maintenance": 0}


def test_workers_and_beat_come_from_their_heartbeats(anon_api):
    families = scrape(anon_api)
    assert sample(families, "opsconsole_workers") == 0
    assert sample(families, "opsconsole_beat_last_run_timestamp_seconds") == 0

    liveness.worker_beat("celery@one")
    liveness.worker_beat("celery@two")
    liveness.worker_beat("celery@gone", now=1.0)
    liveness.beat_ticked(now=1_700_000_000.5)
    families = scrape(anon_api)
    assert sample(families, "opsconsole_workers") == 2
    assert sample(families, "opsconsole_beat_last_run_timestamp_seconds") == 1_700_000_000.5


def test_a_token_protects_the_metrics_when_set(anon_api, settings):
    settings.OPSCONSOLE_METRICS_TOKEN = "s3cret-token"
    missing = anon_api.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert b"opsconsole_" not in missing.content
    assert anon_api.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 401
    assert anon_api.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-token").status_code == 401
    assert anon_api.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token2").status_code == 401
    families = scrape(anon_api, HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert "opsconsole_outbox_messages" in families


def test_without_a_token_the_metrics_are_open(anon_api, settings):
    settings.OPSCONSOLE_METRICS_TOKEN = ""
    response = anon_api.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")


def test_only_get_and_head_are_allowed(anon_api):
    response = anon_api.post("/metrics")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert anon_api.get("/metrics/").status_code == 200


def test_a_database_that_is_down_is_a_503_not_a_500(anon_api):
    from django.core.cache import cache

    cache.delete(CACHE_KEY)

    def unreachable(execute, sql, params, many, context):
        raise OperationalError("connection refused to db.internal:5432")

    with connection.execute_wrapper(unreachable):
        response = anon_api.get("/metrics")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"db.internal" not in response.content


def test_counters_sum_their_shards_and_add_concurrent_increments():
    key = ("opsconsole_test_total", labels_key({"kind": "a"}))
    for _ in range(4 * SHARDS):
        counters_add({key: 2})
    counters_add({key: 0})
    assert counter_totals(["opsconsole_test_total"]) == {key: 8.0 * SHARDS}
    assert MetricCounter.objects.filter(family="opsconsole_test_total").count() <= SHARDS


def test_an_increment_in_a_rolled_back_transaction_counts_nothing():
    key = ("opsconsole_test_total", labels_key())
    counters_add({key: 1})
    with pytest.raises(RuntimeError), transaction.atomic():
        counters_add({key: 5})
        raise RuntimeError("the event was not recorded")
    assert counter_totals(["opsconsole_test_total"]) == {key: 1.0}


def test_histogram_observations_land_in_their_bucket_and_add_up_cumulatively():
    histogram = HistogramDeltas("opsconsole_test_seconds", (0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 7.0):
        histogram.observe(seconds, {"kind": "a"})
    counters_add(histogram.deltas)
    buckets, total = histogram.cumulative(counter_totals(histogram.sample_names()), {"kind": "a"})
    assert buckets == [("0.1", 2.0), ("1.0", 3.0), ("+Inf", 4.0)]
    assert total == pytest.approx(7.65)
    assert histogram.cumulative({}, {"kind": "b"}) == ([("0.1", 0.0), ("1.0", 0.0), ("+Inf", 0.0)], 0.0)


def test_the_output_is_valid_exposition_text(anon_api):
    text = anon_api.get("/metrics").content.decode()
    assert text.endswith("\n")
    assert list(text_string_to_metric_families(text))


@pytest.mark.django_db(transaction=True)
def test_the_counter_table_migrates_backwards_and_forwards():
    from django.db.migrations.executor import MigrationExecutor

    table = MetricCounter._meta.db_table
    executor = MigrationExecutor(connection)
    executor.migrate([("opsconsole", None)])
    assert table not in connection.introspection.table_names()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert table in connection.introspection.table_names()
    counters_add({("opsconsole_test_total", labels_key()): 1})
    assert counter_totals(["opsconsole_test_total"]) == {("opsconsole_test_total", ()): 1.0}
