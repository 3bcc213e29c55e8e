"""Data migrations of the exports app."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_0003_moves_a_claimed_requester_to_the_note_and_back():
    before, after = [("exports", "0002_job_attempts_heartbeat")], [("exports", "0003_job_note")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    User = apps.get_model("auth", "User")
    Job = apps.get_model("exports", "ExportJob")
    ana = User.objects.create(username="ana")
    claimed = Job.objects.create(job_type="admin.log", requested_by="nightly", requested_by_user=ana)
    own = Job.objects.create(job_type="admin.log", requested_by="ana", requested_by_user=ana)
    shell = Job.objects.create(job_type="admin.log", requested_by="manage.py")

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    Job = executor.loader.project_state(after).apps.get_model("exports", "ExportJob")
    rows = {job.pk: (job.requested_by, job.note) for job in Job.objects.all()}
    assert rows == {claimed.pk: ("ana", "nightly"), own.pk: ("ana", ""), shell.pk: ("manage.py", "")}

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    Job = executor.loader.project_state(before).apps.get_model("exports", "ExportJob")
    assert Job.objects.get(pk=claimed.pk).requested_by == "nightly"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
