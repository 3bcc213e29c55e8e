import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from maintenance.models import MaintenanceEvent
from maintenance.services import maintenance_set_mode
from notifications.models import NotificationOutbox
from retention.locks import RowLock
from retention.models import DataRetentionPolicy, PurgeLock, PurgeRun
from retention.tests.conftest import CUTOFF
from retention.tests.factories import MaintenanceEventFactory, OutboxFactory, PolicyFactory

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


@pytest.fixture
def due_rows(frozen):
    """maintenance.events: 3 due of 4; notifications.outbox: 2 due of 3 (one is pending)."""
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    PolicyFactory(category="notifications.outbox", days_to_keep=30)
    for _ in range(3):
        MaintenanceEventFactory(at=CUTOFF - SECOND)
    MaintenanceEventFactory(at=CUTOFF)
    OutboxFactory(status="sent", created_at=CUTOFF - SECOND)
    OutboxFactory(status="failed", created_at=CUTOFF - timedelta(days=3))
    OutboxFactory(status="pending", created_at=CUTOFF - timedelta(days=3))


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_retention", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_dry_run_prints_the_rows_due_per_category_and_deletes_nothing(due_rows):
    output = purge("--dry-run")

    assert "Dry run: nothing deleted." in output
    lines = {line.split()[0]: line.split() for line in output.splitlines() if line.startswith(("maint", "notif"))}
    assert lines["maintenance.events"][-1] == "3"
    assert lines["notifications.outbox"][-1] == "2"
    assert "Total rows due: 5" in output
    assert MaintenanceEvent.objects.count() == 4
    assert NotificationOutbox.objects.count() == 3


def test_real_run_prints_plain_progress_lines_and_a_summary_table(due_rows):
    output = purge()

    assert "maintenance.events: 3 rows due before 2026-05-02 12:00:00 UTC" in output
    assert "maintenance.events: completed, deleted 3" in output
    summary = [line.split() for line in output.splitlines() if line.startswith(("maintenance.events ", "notif"))]
    assert summary[-2][:6] == ["maintenance.events", "completed", "2026-05-02", "12:00:00", "3", "3"]
    assert "Deleted 5 rows" in output
    assert "\r" not in output
    assert MaintenanceEvent.objects.count() == 1
    assert list(NotificationOutbox.objects.values_list("status", flat=True)) == ["pending"]
    assert set(PurgeRun.objects.values_list("trigger", flat=True)) == {"command"}
    assert all(name.startswith("command (") for name in PurgeRun.objects.values_list("actor_name", flat=True))


def test_real_run_on_a_terminal_draws_a_progress_bar(due_rows):
    class Terminal(StringIO):
        def isatty(self):
            return True

    out = Terminal()
    call_command("purge_retention", "--category", "maintenance.events", "--batch-size", "1", stdout=out)

    output = out.getvalue()
    assert "\rmaintenance.events" in output
    assert "[" + "#" * 10 in output and "100% 3/3" in output


def test_json_output_is_machine_readable(due_rows):
    body = json.loads(purge("--json", "--category", "notifications.outbox"))

    assert body["ok"] is True and body["dry_run"] is False
    (run,) = body["runs"]
    assert (run["category"], run["status"]) == ("notifications.outbox", "completed")
    assert (run["matched"], run["deleted"]) == (2, 2)
    assert run["cutoff"] == "2026-05-02T12:00:00+00:00"
    assert body["deleted"] == 2
    assert MaintenanceEvent.objects.count() == 4


def test_json_dry_run_reports_the_counts(due_rows):
    body = json.loads(purge("--dry-run", "--json"))
    assert {run["category"]: run["matched"] for run in body["runs"]} == {
        "maintenance.events": 3,
        "notifications.outbox": 2,
    }
    assert all(run["deleted"] == 0 and run["dry_run"] for run in body["runs"])


def test_read_only_mode_refuses_with_a_clear_message_and_exit_status_3(due_rows):
    maintenance_set_mode(mode="read_only", reason="test")

    with pytest.raises(CommandError, match="maintenance mode is 'read_only'") as excinfo:
        purge()

    assert excinfo.value.returncode == 3
    assert NotificationOutbox.objects.count() == 3
    assert MaintenanceEvent.objects.filter(at__lt=CUTOFF).count() == 3


def test_a_held_lock_refuses_with_exit_status_3(due_rows, monkeypatch):
    monkeypatch.setattr("retention.locks.lock_backend", lambda using="default": RowLock(using))
    PurgeLock.objects.create(
        name="purge", token="x", holder="other:1", acquired_at=CUTOFF, expires_at=CUTOFF + timedelta(days=60)
    )

    with pytest.raises(CommandError, match="another purge is running") as excinfo:
        purge("--json")

    assert excinfo.value.returncode == 3
    assert NotificationOutbox.objects.count() == 3


def test_an_unknown_category_exits_2_listing_the_known_ones(due_rows):
    with pytest.raises(CommandError, match="Known categories: admin.log") as excinfo:
        purge("--category", "nope")
    assert excinfo.value.returncode == 2


def test_a_failing_category_exits_1_after_purging_the_others(due_rows, monkeypatch):
    from django.db import DatabaseError

    from retention.registry import registry

    def broken(batch, *, using):
        raise DatabaseError("disk full")

    monkeypatch.setattr(registry.get("notifications.outbox"), "before_delete_batch", broken)

    with pytest.raises(CommandError, match="notifications.outbox: DatabaseError: disk full") as excinfo:
        purge()

    assert excinfo.value.returncode == 1
    assert MaintenanceEvent.objects.count() == 1
    assert NotificationOutbox.objects.count() == 3
    assert PurgeRun.objects.get(category="notifications.outbox").status == "failed"


def test_skipped_policies_are_named_in_the_output(due_rows):
    PolicyFactory(category="admin.log", days_to_keep=30, legal_hold=True)
    assert "skipped admin.log: legal hold" in purge("--dry-run")


def test_without_policies_the_command_says_there_is_nothing_to_enforce():
    output = purge()
    assert "No retention policy to enforce." in output
    assert not PurgeRun.objects.exists()


def test_a_purge_stopped_by_the_time_budget_is_partial_and_exits_0(due_rows):
    body = json.loads(purge("--json", "--category", "maintenance.events", "--max-seconds", "0.000001"))

    (run,) = body["runs"]
    # The budget ran out before the category began: not even counted, and not "purged".
    assert (run["status"], run["deleted"], run["matched"]) == ("partial", 0, 0)
    assert "time budget" in run["error"]
    assert MaintenanceEvent.objects.count() == 4
    assert DataRetentionPolicy.objects.get(category="maintenance.events").last_purged_at is None


def test_a_purge_stopped_by_a_mode_change_exits_3_and_refuses_the_categories_after_it(due_rows, monkeypatch):
    from retention import services

    monkeypatch.setattr(services.engine, "MODE_CHECK_SECONDS", 0.0)

    first = []

    def switch_after_the_first_batch(run):
        if run.deleted and not first:
            first.append(run.category)
            maintenance_set_mode(mode="read_only", reason="deploy")

    monkeypatch.setattr(
        "retention.management.commands.purge_retention.Command.show_progress",
        lambda self, run: switch_after_the_first_batch(run),
    )
    with pytest.raises(CommandError, match="maintenance mode became 'read_only'") as raised:
        purge("--batch-size", "1")

    assert raised.value.returncode == 3
    runs = {run.category: run for run in PurgeRun.objects.all()}
    (stopped,) = first
    (later,) = set(runs) - {stopped}
    assert (runs[stopped].status, runs[stopped].deleted) == ("partial", 1)
    assert (runs[later].status, runs[later].deleted) == ("refused", 0)
    assert "maintenance mode is 'read_only'" in runs[later].error
    # One row deleted before the stop; the switch itself added a maintenance event.
    assert MaintenanceEvent.objects.count() + NotificationOutbox.objects.count() == 4 + 3 - 1 + 1


@pytest.mark.parametrize(
    "args",
    [
        ["--batch-size", "0"],
        ["--batch-size", "ten"],
        ["--batch-size", "99999999999999999999"],
        ["--max-seconds", "-1"],
        ["--max-seconds", "nan"],
    ],
)
def test_bad_numbers_are_usage_errors(args):
    with pytest.raises(CommandError, match="--batch-size|--max-seconds"):
        purge(*args)
