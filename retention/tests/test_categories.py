"""What each registered category purges: its own date, its conditions, and what goes with its rows."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from exports.models import ExportJob
from notifications.models import NotificationAttempt, NotificationOutbox
from retention.models import PurgeRun
from retention.services import purge_now
from retention.tests.conftest import CUTOFF
from retention.tests.factories import (
    AttemptFactory,
    ExportJobFactory,
    LogEntryFactory,
    OutboxFactory,
    PolicyFactory,
    PurgeRunFactory,
)

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


def test_outbox_purge_keeps_pending_and_sending_rows_however_old(frozen):
    PolicyFactory(category="notifications.outbox", days_to_keep=30)
    old = CUTOFF - timedelta(days=1)
    terminal = [OutboxFactory(status=status, created_at=old) for status in ("sent", "failed", "cancelled")]
    in_flight = [OutboxFactory(status=status, created_at=old) for status in ("pending", "sending")]
    young_sent = OutboxFactory(status="sent", created_at=CUTOFF)

    result = purge_now(categories=["notifications.outbox"], trigger="command")

    remaining = set(NotificationOutbox.objects.values_list("pk", flat=True))
    assert remaining == {row.pk for row in in_flight} | {young_sent.pk}
    assert result.runs[0].deleted == len(terminal)


def test_attempts_go_with_their_outbox_rows_and_no_other_attempts_do(frozen):
    PolicyFactory(category="notifications.outbox", days_to_keep=30)
    purged = OutboxFactory(status="failed", created_at=CUTOFF - SECOND)
    kept = OutboxFactory(status="sent", created_at=CUTOFF)
    pending = OutboxFactory(status="pending", created_at=CUTOFF - timedelta(days=5))
    for row in (purged, purged, kept, pending):
        AttemptFactory(outbox=row, started_at=CUTOFF - timedelta(days=10))

    purge_now(categories=["notifications.outbox"], trigger="command")

    assert not NotificationAttempt.objects.filter(outbox_id=purged.pk).exists()
    assert set(NotificationAttempt.objects.values_list("outbox_id", flat=True)) == {kept.pk, pending.pk}


def test_attempts_category_purges_the_attempt_log_by_start_time(frozen):
    PolicyFactory(category="notifications.attempts", days_to_keep=30)
    outbox = OutboxFactory(status="pending")
    old = AttemptFactory(outbox=outbox, started_at=CUTOFF - SECOND)
    young = AttemptFactory(outbox=outbox, started_at=CUTOFF)

    purge_now(categories=["notifications.attempts"], trigger="command")

    assert list(NotificationAttempt.objects.values_list("pk", flat=True)) == [young.pk]
    assert not NotificationAttempt.objects.filter(pk=old.pk).exists()
    assert NotificationOutbox.objects.filter(pk=outbox.pk).exists()


def test_export_files_are_deleted_with_their_jobs_and_running_jobs_keep_theirs(frozen, media_root):
    PolicyFactory(category="exports.jobs", days_to_keep=30)
    old = CUTOFF - timedelta(days=2)
    finished = default_storage.save("exports/finished.csv", ContentFile(b"id\n1\n"))
    running = default_storage.save("exports/running.csv", ContentFile(b"id\n"))
    young = default_storage.save("exports/young.csv", ContentFile(b"id\n2\n"))
    ExportJobFactory(status="completed", file=finished, created_at=old)
    ExportJobFactory(status="failed", file="exports/never-written.csv", created_at=old)
    ExportJobFactory(status="cancelled", file="", created_at=old)
    running_job = ExportJobFactory(status="running", file=running, created_at=old)
    young_job = ExportJobFactory(status="completed", file=young, created_at=CUTOFF)

    result = purge_now(categories=["exports.jobs"], trigger="command")

    assert result.runs[0].status == "completed"
    assert result.runs[0].deleted == 3
    assert set(ExportJob.objects.values_list("pk", flat=True)) == {running_job.pk, young_job.pk}
    assert not default_storage.exists(finished)
    assert default_storage.exists(running)
    assert default_storage.exists(young)
    assert (media_root / "exports" / "young.csv").exists()


def test_admin_log_and_purge_history_are_purged_by_their_own_dates(frozen):
    PolicyFactory(category="admin.log", days_to_keep=30)
    PolicyFactory(category="retention.purge_runs", days_to_keep=30)
    old_entry = LogEntryFactory(action_time=CUTOFF - SECOND)
    young_entry = LogEntryFactory(action_time=CUTOFF)
    old_run = PurgeRunFactory()
    PurgeRun.objects.filter(pk=old_run.pk).update(started_at=CUTOFF - SECOND)

    purge_now(categories=["admin.log", "retention.purge_runs"], trigger="command")

    assert list(LogEntry.objects.values_list("pk", flat=True)) == [young_entry.pk]
    assert not LogEntry.objects.filter(pk=old_entry.pk).exists()
    assert not PurgeRun.objects.filter(pk=old_run.pk).exists()
    # The runs of this purge are young and stay.
    assert PurgeRun.objects.filter(category="admin.log", dry_run=False).count() == 1
