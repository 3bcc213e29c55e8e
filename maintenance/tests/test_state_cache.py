import time

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.test import override_settings

from maintenance import state as state_cache
from maintenance.models import MaintenanceState
from maintenance.selectors import current_mode, is_normal, maintenance_snapshot
from maintenance.services import maintenance_set_mode
from maintenance.state import CACHE_KEY, MaintenanceSnapshot
from maintenance.tests.factories import MaintenanceStateFactory

pytestmark = pytest.mark.django_db


def test_the_service_publishes_the_new_state_to_the_cache_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        maintenance_set_mode(mode="read_only", reason="upgrade", message="back soon", retry_after=90)
    assert cache.get(CACHE_KEY) is None
    for callback in callbacks:
        callback()
    cached = MaintenanceSnapshot.from_cache_value(cache.get(CACHE_KEY))
    assert (cached.mode, cached.message, cached.retry_after) == ("read_only", "back soon", 90)


def test_reads_after_the_first_make_no_database_query(django_capture_on_commit_callbacks, django_assert_num_queries):
    with django_capture_on_commit_callbacks(execute=True):
        maintenance_set_mode(mode="maintenance", reason="upgrade")
    state_cache.forget_local_state()
    with django_assert_num_queries(0):
        for _ in range(100):
            assert current_mode() == "maintenance"
            assert not is_normal()


def lost_publication(**fields):
    """A committed row the cache never heard of (bulk_create sends no signal)."""
    MaintenanceState.objects.bulk_create([MaintenanceState(**fields)])


def test_a_cold_cache_costs_one_query_and_is_filled(django_assert_num_queries):
    lost_publication(mode="read_only", message="upgrade")
    with django_assert_num_queries(1):
        assert current_mode() == "read_only"
    assert MaintenanceSnapshot.from_cache_value(cache.get(CACHE_KEY)).mode == "read_only"
    state_cache.forget_local_state()
    with django_assert_num_queries(0):
        assert current_mode() == "read_only"


def test_the_memo_is_trusted_for_at_most_local_ttl(settings):
    settings.MAINTENANCE = {**settings.MAINTENANCE, "LOCAL_TTL_SECONDS": 0.2}
    assert current_mode() == "normal"
    # Another process publishes a change: this process sees it once its memo expires.
    cache.set(CACHE_KEY, MaintenanceSnapshot(mode="read_only").as_cache_value())
    assert current_mode() == "normal"
    time.sleep(0.25)
    assert current_mode() == "read_only"


def test_a_reader_does_not_overwrite_a_state_published_meanwhile():
    lost_publication(mode="normal")
    cache.set(CACHE_KEY, MaintenanceSnapshot(mode="maintenance").as_cache_value())
    # A reader that had loaded the old row publishes with add(), which keeps the newer value.
    cache.add(CACHE_KEY, MaintenanceSnapshot(mode="normal").as_cache_value())
    assert current_mode() == "maintenance"


def test_the_writer_sees_its_own_uncommitted_change():
    assert current_mode() == "normal"
    with transaction.atomic():
        maintenance_set_mode(mode="read_only", reason="upgrade")
        assert current_mode() == "read_only"
        assert not is_normal()


def test_a_rolled_back_change_never_reaches_the_cache():
    assert current_mode() == "normal"

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        maintenance_set_mode(mode="read_only", reason="upgrade")
        assert current_mode() == "read_only"
        raise Abort
    assert cache.get(CACHE_KEY) is None or cache.get(CACHE_KEY)["mode"] == "normal"
    assert current_mode() == "normal"


def test_a_broken_cache_falls_back_to_the_database():
    MaintenanceStateFactory(mode="maintenance")
    unreachable = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    with override_settings(CACHES={"default": unreachable}):
        assert current_mode() == "maintenance"


def test_health_style_reads_never_write_the_cache():
    MaintenanceStateFactory(mode="read_only")
    assert maintenance_snapshot(publish=False).mode == "read_only"
    assert cache.get(CACHE_KEY) is None


def test_with_the_database_unreachable_the_shield_keeps_the_last_known_mode(settings):
    lost_publication(mode="read_only")
    assert current_mode() == "read_only"
    cache.clear()
    state_cache._memo = (state_cache._memo[0], 0.0)  # expired memo, cold cache

    def unreachable(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    with connection.execute_wrapper(unreachable):
        assert current_mode() == "read_only"
        with pytest.raises(OperationalError):
            maintenance_snapshot(publish=False)


def test_direct_writes_that_bypass_the_service_are_published_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        MaintenanceStateFactory(mode="maintenance", message="set in a shell")
    assert MaintenanceSnapshot.from_cache_value(cache.get(CACHE_KEY)).message == "set in a shell"
    with django_capture_on_commit_callbacks(execute=True):
        MaintenanceState.objects.all().delete()
    assert cache.get(CACHE_KEY)["mode"] == "normal"


def test_a_direct_write_is_seen_by_its_own_transaction_before_commit():
    assert current_mode() == "normal"
    MaintenanceStateFactory(mode="read_only")
    assert current_mode() == "read_only"
