import csv
import getpass
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from exports import services
from exports.models import ExportJob, JobStatus
from exports.tests.factories import OutboxFactory


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


@pytest.mark.django_db(transaction=True)
def test_export_command_runs_a_filtered_export_and_writes_the_file(tmp_path):
    sent = OutboxFactory.create_batch(2, status="sent")
    OutboxFactory(status="failed")
    target = tmp_path / "sent.csv"
    out = StringIO()
    call_command(
        "export", "notifications.outbox", "--filter", "status=sent", "--run-now", "--output", str(target), stdout=out
    )
    assert "completed: 2 rows" in out.getvalue()
    with open(target, newline="") as handle:
        assert [int(row["id"]) for row in csv.DictReader(handle)] == [row.pk for row in sent]
    job = ExportJob.objects.get()
    assert (job.requested_by, job.requested_by_user, job.note) == (f"manage.py:{getpass.getuser()}", None, "")


@pytest.mark.django_db
def test_export_command_keeps_requested_by_as_a_note_and_records_the_os_user(no_enqueue):
    call_command("export", "admin.log", "--requested-by", "admin", stdout=StringIO())
    call_command("export", "notifications.outbox", "--note", "for the audit", stdout=StringIO())
    jobs = ExportJob.objects.order_by("id")
    assert [(job.requested_by, job.note) for job in jobs] == [
        (f"manage.py:{getpass.getuser()}", "admin"),
        (f"manage.py:{getpass.getuser()}", "for the audit"),
    ]


@pytest.mark.django_db
def test_export_command_leaves_the_job_to_a_worker_by_default(no_enqueue):
    out = StringIO()
    call_command("export", "snapshot", "--dataset", "admin.log", "--filter", "admin.log:action_flag=1", stdout=out)
    job = ExportJob.objects.get()
    assert job.status == JobStatus.PENDING and job.filter_params == {"admin.log": {"action_flag": "1"}}
    assert f"export #{job.pk} created" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["notifications.nope"], "Unknown dataset"),
        (["notifications.outbox", "--filter", "colour=red"], "filter_params.colour"),
        (["notifications.outbox", "--filter", "status"], "expected KEY=VALUE"),
        (["notifications.outbox", "--output", "/tmp/x.csv"], "--output needs --run-now"),
        (["notifications.outbox", "--run-now", "--output", "/nonexistent/dir/x.csv"], "not a writable folder"),
        (["notifications.outbox", "--run-now", "--output", "/tmp"], "is a folder"),
    ],
)
def test_export_command_refuses_bad_input_with_a_non_zero_exit(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export", *args, stdout=StringIO())
    assert ExportJob.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["read_only", "maintenance"])
def test_export_command_refuses_outside_normal_mode_and_writes_nothing(mode):
    from maintenance.services import maintenance_set_mode

    maintenance_set_mode(mode=mode, reason="test")
    with pytest.raises(CommandError, match=f"Maintenance mode is '{mode}'"):
        call_command("export", "notifications.outbox", stdout=StringIO())
    assert ExportJob.objects.count() == 0
