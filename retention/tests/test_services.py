from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maintenance.models import MaintenanceEvent
from maintenance.services import maintenance_set_mode
from notifications.models import NotificationOutbox
from retention import services
from retention.exceptions import InvalidInput, MaintenanceModeActive, PurgeLocked, UnknownCategory
from retention.locks import RowLock
from retention.models import DataRetentionPolicy, PurgeLock, PurgeRun
from retention.services import policy_upsert, purge_enqueue, purge_execute, purge_now, purge_preview
from retention.tests.conftest import CUTOFF
from retention.tests.factories import (
    LogEntryFactory,
    MaintenanceEventFactory,
    OutboxFactory,
    PolicyFactory,
    PurgeRunFactory,
)

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


def events_around_the_cutoff():
    """Two expired events (one a second before the cutoff), one at the cutoff, one after."""
    old = MaintenanceEventFactory(at=CUTOFF - timedelta(days=3))
    just_old = MaintenanceEventFactory(at=CUTOFF - SECOND)
    at_cutoff = MaintenanceEventFactory(at=CUTOFF)
    young = MaintenanceEventFactory(at=CUTOFF + SECOND)
    return old, just_old, at_cutoff, young


def test_dry_run_counts_exactly_the_expired_rows_and_deletes_nothing(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    events_around_the_cutoff()

    result = purge_preview(categories=["maintenance.events"])

    (run,) = result.runs
    assert (run.dry_run, run.status, run.matched, run.deleted) == (True, "completed", 2, 0)
    assert run.cutoff == CUTOFF
    assert MaintenanceEvent.objects.count() == 4
    assert DataRetentionPolicy.objects.get().last_purged_at is None


def test_purge_deletes_rows_older_than_the_cutoff_to_the_second_and_keeps_the_rest(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    _old, _just_old, at_cutoff, young = events_around_the_cutoff()

    result = purge_now(categories=["maintenance.events"], trigger="command")

    assert set(MaintenanceEvent.objects.values_list("pk", flat=True)) == {at_cutoff.pk, young.pk}
    (run,) = result.runs
    assert (run.status, run.matched, run.deleted, run.cutoff) == ("completed", 2, 2, CUTOFF)
    assert run.finished_at == frozen
    assert DataRetentionPolicy.objects.get().last_purged_at == frozen


def test_purge_crosses_many_small_batches_and_leaves_interleaved_young_rows(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    kept = []
    for index in range(12):
        MaintenanceEventFactory(at=CUTOFF - timedelta(hours=index + 1))
        if index % 3 == 0:
            kept.append(MaintenanceEventFactory(at=CUTOFF + timedelta(hours=index)).pk)

    result = purge_now(categories=["maintenance.events"], trigger="command", batch_size=5)

    assert sorted(MaintenanceEvent.objects.values_list("pk", flat=True)) == sorted(kept)
    assert result.runs[0].deleted == 12


def test_purge_never_loads_rows_and_deletes_each_batch_in_one_statement(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    for _ in range(6):
        MaintenanceEventFactory(at=CUTOFF - SECOND)

    with CaptureQueriesContext(connection) as ctx:
        purge_now(categories=["maintenance.events"], trigger="command", batch_size=3)

    sql = [q["sql"] for q in ctx.captured_queries]
    deletes = [s for s in sql if s.startswith('DELETE FROM "maintenance_events"')]
    assert len(deletes) == 2
    # Nothing ever selects the events' columns: only counts and the batch-ending id.
    assert not [s for s in sql if s.startswith('SELECT "maintenance_events"."id", "maintenance_events"."from_mode"')]


def test_legal_hold_and_disabled_policies_are_skipped_and_others_run(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30, legal_hold=True)
    PolicyFactory(category="admin.log", days_to_keep=30, enabled=False)
    PolicyFactory(category="notifications.outbox", days_to_keep=30)
    MaintenanceEventFactory(at=CUTOFF - timedelta(days=9))
    LogEntryFactory(action_time=CUTOFF - timedelta(days=9))
    OutboxFactory(status="sent", created_at=CUTOFF - timedelta(days=9))

    result = purge_now(trigger="schedule")

    assert MaintenanceEvent.objects.count() == 1
    assert LogEntry.objects.count() == 1
    assert NotificationOutbox.objects.count() == 0
    assert {(s.category, s.reason) for s in result.skipped} == {
        ("maintenance.events", "legal hold"),
        ("admin.log", "policy disabled"),
    }
    assert [run.category for run in result.runs] == ["notifications.outbox"]


def test_purge_in_read_only_mode_refuses_and_deletes_nothing(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    events_around_the_cutoff()
    maintenance_set_mode(mode="read_only", reason="test")

    with pytest.raises(MaintenanceModeActive, match="read_only"):
        purge_now(categories=["maintenance.events"], trigger="command")
    with pytest.raises(MaintenanceModeActive):
        purge_preview(categories=["maintenance.events"])

    assert MaintenanceEvent.objects.count() == 5  # the four, plus the mode change itself
    assert not PurgeRun.objects.exists()


def test_queued_runs_refuse_when_the_mode_changed_before_the_worker_started(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    events_around_the_cutoff()
    queued = purge_enqueue(categories=["maintenance.events"], trigger="api")
    maintenance_set_mode(mode="maintenance", reason="test")

    with pytest.raises(MaintenanceModeActive):
        purge_execute(run_ids=[run.pk for run in queued.runs])

    run = PurgeRun.objects.get()
    assert run.status == "refused"
    assert "maintenance" in run.error
    assert MaintenanceEvent.objects.filter(at__lt=CUTOFF).count() == 2


def test_a_legal_hold_set_after_queueing_wins(frozen):
    policy = PolicyFactory(category="maintenance.events", days_to_keep=30)
    events_around_the_cutoff()
    queued = purge_enqueue(categories=["maintenance.events"], trigger="api")
    policy_upsert(category=policy.category, legal_hold=True)

    purge_execute(run_ids=[run.pk for run in queued.runs])

    assert PurgeRun.objects.get().status == "refused"
    assert MaintenanceEvent.objects.count() == 4


def test_executing_the_same_queued_runs_twice_purges_once(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    events_around_the_cutoff()
    run_ids = [run.pk for run in purge_enqueue(categories=["maintenance.events"], trigger="api").runs]

    first = purge_execute(run_ids=run_ids)
    second = purge_execute(run_ids=run_ids)

    assert [run.deleted for run in first.runs] == [2]
    assert second.runs == []
    assert PurgeRun.objects.get().deleted == 2


def test_time_budget_stops_a_purge_as_partial_and_a_rerun_finishes(frozen, monkeypatch):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    for _ in range(6):
        MaintenanceEventFactory(at=CUTOFF - SECOND)

    class Clock:
        """The engine's monotonic clock, moved on by 10 s after each batch."""

        now = 1000.0

        def monotonic(self):
            return self.now

    clock = Clock()
    monkeypatch.setattr(services.engine, "time", clock)

    def batch_takes_ten_seconds(run):
        if run.deleted:
            clock.now += 10

    first = purge_now(
        categories=["maintenance.events"],
        trigger="command",
        batch_size=2,
        max_seconds=15,
        progress=batch_takes_ten_seconds,
    )
    assert (first.runs[0].status, first.runs[0].deleted) == ("partial", 4)
    assert "time budget" in first.runs[0].error
    assert MaintenanceEvent.objects.count() == 2

    second = purge_now(categories=["maintenance.events"], trigger="command", batch_size=2)
    assert (second.runs[0].status, second.runs[0].deleted) == ("completed", 2)
    assert MaintenanceEvent.objects.count() == 0


@pytest.fixture
def row_lock(monkeypatch):
    """Use the lock row (SQLite's lock) whatever the database."""
    monkeypatch.setattr("retention.locks.lock_backend", lambda using="default": RowLock(using))


def test_a_held_lock_row_refuses_a_second_purge_and_records_the_refusal(frozen, row_lock):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    events_around_the_cutoff()
    PurgeLock.objects.create(
        name="purge", token="other", holder="host-b:42", acquired_at=frozen, expires_at=frozen + timedelta(minutes=5)
    )

    with pytest.raises(PurgeLocked, match="host-b:42"):
        purge_now(categories=["maintenance.events"], trigger="command")

    assert PurgeRun.objects.get().status == "refused"
    assert MaintenanceEvent.objects.count() == 4


def test_a_stale_lock_row_left_by_a_crash_is_taken_over(frozen, row_lock):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    events_around_the_cutoff()
    PurgeLock.objects.create(
        name="purge", token="dead", holder="host-b:42", acquired_at=frozen - timedelta(hours=2), expires_at=frozen
    )

    result = purge_now(categories=["maintenance.events"], trigger="command")

    assert result.runs[0].deleted == 2
    assert not PurgeLock.objects.exists()


def test_unknown_category_is_rejected_listing_the_known_ones():
    with pytest.raises(UnknownCategory) as excinfo:
        purge_now(categories=["notifications.outbx"], trigger="command")
    assert "notifications.outbox" in excinfo.value.detail
    assert "maintenance.events" in excinfo.value.extra["known_categories"]
    assert not PurgeRun.objects.exists()


def test_a_category_without_a_policy_is_skipped_not_purged(frozen):
    MaintenanceEventFactory(at=CUTOFF - timedelta(days=400))

    result = purge_now(categories=["maintenance.events"], trigger="command")

    assert [(s.category, s.reason) for s in result.skipped] == [("maintenance.events", "no retention policy")]
    assert MaintenanceEvent.objects.count() == 1


def test_policy_upsert_creates_then_updates_the_same_row():
    policy, created = policy_upsert(category="exports.jobs", days_to_keep=30, description="GDPR")
    again, created_again = policy_upsert(category="exports.jobs", days_to_keep=45, legal_hold=True)

    assert (created, created_again) == (True, False)
    assert again.pk == policy.pk
    assert (again.days_to_keep, again.legal_hold, again.description, again.enabled) == (45, True, "GDPR", True)


@pytest.mark.parametrize("days", [0, 36501, "30", 30.0, True])
def test_policy_upsert_rejects_days_to_keep_outside_the_range_or_not_an_integer(days):
    with pytest.raises(InvalidInput) as excinfo:
        policy_upsert(category="exports.jobs", days_to_keep=days)
    assert "days_to_keep" in excinfo.value.fields
    assert not DataRetentionPolicy.objects.exists()


def test_conditions_that_join_another_table_are_purged_through_the_orm_path(frozen):
    from django.db.models import Q

    from retention.registry import RetentionCategory, registry

    class MutedChannelOutbox(RetentionCategory):
        name = "test.muted_outbox"
        date_field = "created_at"

        def get_model(self):
            return NotificationOutbox

        def conditions(self):
            return Q(channel__name="muted")

    registry.register(MutedChannelOutbox)
    try:
        PolicyFactory(category="test.muted_outbox", days_to_keep=30)
        muted = OutboxFactory(channel__name="muted", created_at=CUTOFF - SECOND)
        loud = OutboxFactory(channel__name="loud", created_at=CUTOFF - SECOND)
        expired = registry.get("test.muted_outbox").expired(CUTOFF)
        assert isinstance(services.statements.batch_statements(expired, "default"), services.statements.OrmStatements)

        result = purge_now(categories=["test.muted_outbox"], trigger="command")
    finally:
        registry.unregister("test.muted_outbox")

    assert result.runs[0].deleted == 1
    assert not NotificationOutbox.objects.filter(pk=muted.pk).exists()
    assert NotificationOutbox.objects.filter(pk=loud.pk).exists()


def test_a_purge_stops_between_batches_when_maintenance_mode_starts(frozen, monkeypatch):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    for _ in range(6):
        MaintenanceEventFactory(at=CUTOFF - SECOND)

    class Clock:
        now = 1000.0

        def monotonic(self):
            return self.now

    clock = Clock()
    monkeypatch.setattr(services.engine, "time", clock)

    def switch_to_read_only_after_the_first_batch(run):
        if run.deleted == 2 and run.finished_at is None:
            maintenance_set_mode(mode="read_only", reason="test")
            clock.now += 10  # past the next mode check

    result = purge_now(
        categories=["maintenance.events"],
        trigger="command",
        batch_size=2,
        progress=switch_to_read_only_after_the_first_batch,
    )

    (run,) = result.runs
    assert (run.status, run.deleted) == ("partial", 2)
    assert "read_only" in run.error
    assert MaintenanceEvent.objects.filter(at__lt=CUTOFF).count() == 4


def test_batch_size_and_time_budget_come_from_the_retention_settings(frozen, settings):
    settings.RETENTION = {**settings.RETENTION, "BATCH_SIZE": 2}
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    for _ in range(5):
        MaintenanceEventFactory(at=CUTOFF - SECOND)
    progress_seen = []

    purge_now(
        categories=["maintenance.events"],
        trigger="command",
        progress=lambda run: progress_seen.append(run.deleted),
    )

    # Once after counting, once per batch of two, once at the end.
    assert progress_seen == [0, 2, 4, 5, 5]


def test_a_run_left_running_by_a_dead_process_is_carried_out_when_its_task_is_redelivered(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    events_around_the_cutoff()
    orphan = PurgeRunFactory(category="maintenance.events", trigger="api", status="running", deleted=0)

    result = purge_execute(run_ids=[orphan.pk])

    orphan.refresh_from_db()
    assert (orphan.status, orphan.deleted) == ("completed", 2)
    assert result.runs == [orphan]


def test_another_purge_marks_runs_whose_process_died_as_interrupted(frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    orphan = PurgeRunFactory(category="admin.log", trigger="schedule", status="running")
    finished = PurgeRunFactory(category="admin.log", trigger="schedule", status="completed")

    purge_now(categories=["maintenance.events"], trigger="command")

    orphan.refresh_from_db()
    assert orphan.status == "failed"
    assert orphan.error.startswith("Interrupted")
    finished.refresh_from_db()
    assert finished.status == "completed"
