"""The database-layer blocker: tasks and commands may not write outside normal mode, but for the allow-list."""

from datetime import timedelta
from io import StringIO

import pytest
from celery import shared_task
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.core.management import ManagementUtility
from django.db import transaction
from django.utils import timezone

from maintenance import guards
from maintenance import state as state_cache
from maintenance.exceptions import WritesBlocked
from maintenance.models import MaintenanceState
from maintenance.services import maintenance_set_mode
from maintenance.tasks import expire_maintenance

pytestmark = pytest.mark.django_db


@shared_task(name="maintenance.tests.create_group")
def create_group(name: str) -> int:
    return Group.objects.create(name=name).pk


@pytest.fixture
def read_only():
    maintenance_set_mode(mode="read_only", reason="database upgrade")


@pytest.fixture
def manage(monkeypatch, capsys):
    """Run `manage.py ARGS` in this process: (exit status, stdout, stderr)."""
    # run_from_argv closes every connection when it ends; the test's transaction must survive.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)

    def run(*args: str) -> tuple[int, str, str]:
        try:
            # A savepoint, as the command's own process would start a fresh transaction.
            # run_from_argv as manage.py calls it (not ManagementUtility.execute(), whose
            # django.setup() would point the logging handlers at this test's captured stderr).
            with transaction.atomic():
                ManagementUtility(["manage.py", *args]).fetch_command(args[0]).run_from_argv(["manage.py", *args])
            status = 0
        except SystemExit as exit_:
            status = exit_.code
        out, err = capsys.readouterr()
        return status, out, err

    return run


def _expired_session() -> Session:
    return Session.objects.create(session_key="k" * 32, session_data="", expire_date=timezone.now() - timedelta(days=1))


# --- the allow-list -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "allowed"),
    [
        ("maintenance.tasks.expire_maintenance", True),
        ("notifications.tasks.deliver", True),
        ("notifications.tasks.dispatch_due", True),
        ("retention.tasks.purge_queued_runs", True),
        ("retention.tasks.fail_interrupted_runs", False),
        ("exports.tasks.run_export", False),
        ("exports.tasks.recover_stale_jobs", False),
    ],
)
def test_the_task_allow_list(task, allowed):
    assert guards.task_allowed(task) is allowed


# --- management commands -------------------------------------------------------------


def test_a_command_that_writes_while_read_only_is_refused_with_exit_status_3(read_only, manage):
    session = _expired_session()

    status, _out, err = manage("clearsessions")

    assert status == guards.EXIT_REFUSED
    assert "CommandError: Refused: maintenance mode is 'read_only'; `clearsessions` may not write" in err
    assert "Traceback" not in err
    assert Session.objects.filter(pk=session.pk).exists()
    assert guards.blocked_door() is None


def test_the_same_command_writes_in_normal_mode(manage):
    session = _expired_session()

    assert manage("clearsessions")[0] == 0
    assert not Session.objects.filter(pk=session.pk).exists()


def test_a_command_that_only_reads_runs_while_read_only(read_only, manage):
    Group.objects.create(name="operators")

    status, out, _err = manage("dumpdata", "auth.group")

    assert status == 0
    assert '"name": "operators"' in out


def test_the_mode_change_is_allowed_from_the_shell(read_only, manage):
    status, out, _err = manage("maintenance_mode", "normal", "--reason", "upgrade done")

    assert (status, MaintenanceState.objects.get().mode) == (0, "normal")
    assert "now normal" in out


@pytest.mark.parametrize(
    "args",
    [
        ["createsuperuser", "--noinput", "--username", "root", "--email", "root@example.test"],
        ["bootstrap_admin", "--username", "root"],
    ],
)
def test_setting_up_an_installation_is_allowed_while_read_only(read_only, manage, monkeypatch, settings, args):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "pw-root-123-long")
    settings.OPSCONSOLE_ADMIN_PASSWORD = "pw-root-123-long"

    status, _out, err = manage(*args)

    assert status == 0, err
    root = User.objects.get(username="root")
    assert root.is_superuser and root.check_password("pw-root-123-long")


def test_an_api_token_can_be_made_while_read_only(read_only, manage, django_user_model):
    django_user_model.objects.create_user("robot", is_staff=True)

    status, out, err = manage("drf_create_token", "robot")

    assert status == 0, err
    assert "Generated token" in out


# --- Celery tasks --------------------------------------------------------------------


def test_a_task_that_writes_while_read_only_is_refused_and_writes_nothing(read_only):
    with pytest.raises(WritesBlocked) as refusal, transaction.atomic():
        create_group.apply(args=["operators"], throw=True)

    assert refusal.value.mode == "read_only"
    assert not Group.objects.exists()
    assert guards.blocked_door() is None  # task_postrun lifted the block


def test_the_same_task_writes_in_normal_mode():
    assert create_group.apply(args=["operators"], throw=True).get() == Group.objects.get().pk


def test_the_expire_task_may_end_read_only_on_schedule(read_only):
    # The cache still says read_only until later; the row says the end has passed.
    maintenance_set_mode(mode="read_only", reason="until lunch", until=timezone.now() + timedelta(hours=1))
    MaintenanceState.objects.update(until=timezone.now() - timedelta(seconds=1))

    assert expire_maintenance.apply(throw=True).get() == "normal"
    assert MaintenanceState.objects.get().mode == "normal"


def test_a_task_door_is_lifted_when_the_task_ends():
    guards.enter_task("t-1", "exports.tasks.run_export")
    assert guards.blocked_door() == "task exports.tasks.run_export"
    guards.leave_task("t-1")
    assert guards.blocked_door() is None
    guards.enter_task("t-2", "notifications.tasks.deliver")
    assert guards.blocked_door() is None
    guards.leave_task("t-2")


# --- inside a door -------------------------------------------------------------------


def test_writes_allowed_lets_a_named_write_through_a_blocked_door(read_only):
    with guards.database_writes_blocked("test"), guards.writes_allowed("recording what was delivered"):
        Group.objects.create(name="operators")
    assert Group.objects.count() == 1


def test_the_blocker_reads_the_mode_only_for_a_write(read_only, monkeypatch):
    reads = []
    real = state_cache.local_snapshot
    monkeypatch.setattr(state_cache, "local_snapshot", lambda: reads.append(1) or real())
    with guards.database_writes_blocked("test"):
        list(Group.objects.all())
        assert reads == []
        with pytest.raises(WritesBlocked):
            Group.objects.create(name="operators")
    assert reads == [1]


def test_outside_a_door_the_database_blocker_stays_out_of_the_way(read_only):
    # The web has the shield; only tasks and commands are doors of the database blocker.
    Group.objects.create(name="operators")
    assert Group.objects.count() == 1


def test_call_command_runs_inside_its_callers_door(read_only):
    from django.core.management import call_command

    session = _expired_session()
    with guards.database_writes_blocked("task test"), pytest.raises(WritesBlocked), transaction.atomic():
        call_command("clearsessions", stdout=StringIO())
    assert Session.objects.filter(pk=session.pk).exists()
