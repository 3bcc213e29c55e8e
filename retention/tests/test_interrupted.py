"""A purge whose process died is marked failed by the periodic sweep, with its exact count."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from maintenance.models import MaintenanceEvent
from opsconsole.celery import app
from opsconsole.env import BASE_DIR
from opsconsole.testing import require_postgres, wait_for, worker_env
from retention import locks, services, tasks
from retention.locks import ADVISORY_LOCK_KEY, RowLock
from retention.models import PurgeLock, PurgeRun
from retention.tests.factories import MaintenanceEventFactory, PolicyFactory, PurgeRunFactory


@pytest.fixture
def row_lock(monkeypatch):
    """Use the lock row (SQLite's lock) whatever the database."""
    monkeypatch.setattr("retention.locks.lock_backend", lambda using="default": RowLock(using))


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def lock_row(holder: str, *, expires_in: timedelta) -> PurgeLock:
    now = timezone.now()
    return PurgeLock.objects.create(
        name=locks.ROW_LOCK_NAME, token="theirs", holder=holder, acquired_at=now, expires_at=now + expires_in
    )


def test_the_sweep_is_a_beat_task_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["retention-fail-interrupted"]
    assert entry["task"] == tasks.fail_interrupted_runs.name and entry["schedule"] <= 60
    assert entry["task"] in app.tasks  # registered with the worker under that name


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("holder", "expires_in", "dead"),
    [
        pytest.param(None, None, True, id="no-lock-row"),
        pytest.param("this-host:dead", timedelta(minutes=10), True, id="holder-process-gone"),
        pytest.param("this-host:self", timedelta(minutes=10), False, id="holder-alive"),
        pytest.param("other-host:42", timedelta(minutes=10), False, id="other-machine-not-expired"),
        pytest.param("other-host:42", timedelta(seconds=-1), True, id="other-machine-expired"),
    ],
)
def test_a_running_run_is_failed_only_when_the_lock_row_says_its_purge_is_dead(row_lock, holder, expires_in, dead):
    if holder is not None:
        host = socket.gethostname()
        stand_ins = {"this-host:dead": f"{host}:{dead_pid()}", "this-host:self": f"{host}:{os.getpid()}"}
        holder = stand_ins.get(holder, holder)
        lock_row(holder, expires_in=expires_in)
    run = PurgeRunFactory(status="running", deleted=12_345, finished_at=None)
    finished = PurgeRunFactory(status="completed")

    assert tasks.fail_interrupted_runs() == (1 if dead else 0)

    run.refresh_from_db()
    finished.refresh_from_db()
    assert finished.status == "completed"
    if not dead:
        assert (run.status, run.finished_at) == ("running", None)
        assert PurgeLock.objects.get().holder == holder  # a live purge's lock is never taken
        return
    assert run.status == "failed" and run.finished_at is not None
    assert run.deleted == 12_345 and "12,345 rows had been deleted" in run.error
    assert run.error.startswith("Interrupted")
    assert not PurgeLock.objects.exists()  # the sweep released what it took over


@pytest.mark.django_db
def test_the_sweep_takes_no_lock_when_no_run_is_running(row_lock, monkeypatch):
    PurgeRunFactory(status="completed")
    monkeypatch.setattr(locks, "lock_backend", lambda using="default": pytest.fail("no lock needed"))
    assert services.purge_runs_fail_interrupted() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgres_a_run_is_dead_once_nobody_holds_the_advisory_lock():
    require_postgres()
    run = PurgeRunFactory(status="running", deleted=7, finished_at=None)
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        assert services.purge_runs_fail_interrupted() == 0
        run.refresh_from_db()
        assert run.status == "running"
    finally:
        holder.close()  # the holding session ends, as it does when its process dies
    assert services.purge_runs_fail_interrupted() == 1
    run.refresh_from_db()
    assert (run.status, run.deleted) == ("failed", 7)


# Purges in a process of its own, two rows a batch, and stops for good inside the second
# batch's transaction (the first one committed): the test SIGKILLs it there.
KILLED_PURGE = """
import os, sys, time
import django
django.setup()
from retention.registry import registry
from retention.services import purge_now

marker = sys.argv[1]
batches = []

def hang_in_second_batch(batch, *, using):
    batches.append(batch)
    if len(batches) == 2:
        open(marker, "w").close()
        time.sleep(600)

registry.get("maintenance.events").before_delete_batch = hang_in_second_batch
purge_now(categories=["maintenance.events"], trigger="command", batch_size=2)
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_purge_killed_mid_batch_is_failed_by_the_sweep_with_its_exact_count(tmp_path):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    for _ in range(5):
        MaintenanceEventFactory(at=timezone.now() - timedelta(days=60))
    marker = tmp_path / "in-second-batch"
    purge = subprocess.Popen(
        [sys.executable, "-c", KILLED_PURGE, str(marker)],
        cwd=BASE_DIR,
        env=worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: marker.exists() or purge.poll() is not None, timeout=60, message="the second batch")
        assert purge.poll() is None, purge.stdout.read()
        run = PurgeRun.objects.get()
        assert (run.status, run.deleted) == ("running", 2)
        os.kill(purge.pid, signal.SIGKILL)
        purge.wait(timeout=30)
    finally:
        if purge.poll() is None:
            purge.kill()
            purge.wait()

    # PostgreSQL ends the dead client's session (and its advisory lock) a moment later.
    wait_for(lambda: services.purge_runs_fail_interrupted() == 1, timeout=30, message="the sweep to see the purge dead")
    run.refresh_from_db()
    assert (run.status, run.deleted) == ("failed", 2) and run.finished_at is not None
    assert "2 rows had been deleted" in run.error
    assert MaintenanceEvent.objects.count() == 3  # the second batch rolled back with the process
