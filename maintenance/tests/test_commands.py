from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from maintenance.models import MaintenanceEvent, MaintenanceState

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("maintenance_mode", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_command_changes_the_mode_with_a_reason():
    until = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    out = run(
        "read_only", "--reason", "db upgrade", "--until", until.isoformat(), "--message", "m", "--retry-after", "30"
    )
    assert "now read_only" in out
    state = MaintenanceState.objects.get()
    assert (state.mode, state.until, state.message, state.retry_after) == ("read_only", until, "m", 30)
    event = MaintenanceEvent.objects.get()
    assert (event.reason, event.source, event.actor) == ("db upgrade", "command", None)


def test_status_prints_the_mode():
    assert run("--status").splitlines()[0] == "normal"
    run("maintenance", "--reason", "x", "--message", "Moving racks")
    out = run("--status")
    assert out.splitlines()[0] == "maintenance"
    assert "Moving racks" in out


def test_refusals_exit_non_zero_with_a_clear_message():
    with pytest.raises(CommandError, match="reason"):
        run("read_only")
    with pytest.raises(CommandError, match="normal, read_only, maintenance"):
        run("readonly", "--reason", "x")
    with pytest.raises(CommandError, match="already in mode normal"):
        run("normal", "--reason", "x")
    with pytest.raises(CommandError, match="until"):
        run("read_only", "--reason", "x", "--until", "2001-01-01T00:00:00+00:00")
    with pytest.raises(CommandError, match="ISO 8601"):
        run("read_only", "--reason", "x", "--until", "next tuesday")
    with pytest.raises(CommandError, match="--status"):
        run()
    assert not MaintenanceEvent.objects.exists()


def test_naive_until_is_read_in_the_server_time_zone():
    until = (timezone.localtime() + timedelta(hours=1)).replace(microsecond=0, tzinfo=None)
    run("maintenance", "--reason", "x", "--until", until.isoformat())
    assert MaintenanceState.objects.get().until == timezone.make_aware(until)
