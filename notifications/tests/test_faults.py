"""Fault tests: real worker and beat processes on PostgreSQL and a Redis of the test's own,
then the damage (SIGKILL, SIGTERM, a broker outage, killed database connections), then a count.

Marker `faults`; PostgreSQL only (they skip on SQLite, and fail in CI without it). Each
test keeps its own Redis on a free port, so stopping it never touches the shared one.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager, suppress

import psycopg
import pytest
from django.db import connection
from django.test import Client

from notifications.models import NotificationOutbox, NotificationStatus
from notifications.services import notification_enqueue
from notifications.tests.conftest import free_port
from notifications.tests.factories import WebhookChannelFactory
from opsconsole.celery import app as celery_app
from opsconsole.env import BASE_DIR
from opsconsole.testing import require_postgres, wait_for, worker_env

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FAST_RECOVERY = {
    "OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE": "1",
    "OPSCONSOLE_NOTIFY_LEASE_SECONDS": "6",
    "OPSCONSOLE_NOTIFY_SWEEP_SECONDS": "1",
    "OPSCONSOLE_NOTIFY_CONCURRENCY": "8",
}


@pytest.fixture(autouse=True)
def _postgres_only():
    require_postgres()


class RedisServer:
    """A redis-server of the test's own, on a free port, that the test may stop and start."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _port_open(self.port), timeout=10, message="redis-server listening")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def publishing_to(url: str):
    """Point this process's Celery app (the doorbells the web rings) at another broker."""
    celery_app.conf.broker_write_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        celery_app.conf.broker_write_url = None
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


class Process:
    """A celery worker or beat in a session of its own, so the test can signal it or its whole group."""

    def __init__(self, kind: str, broker_url: str, **env: str) -> None:
        if kind == "worker":
            args = ["worker", "--loglevel=INFO", "--concurrency=2", "--pool=prefork", "--without-gossip",
                    "--without-mingle", "-n", f"fault-{time.monotonic_ns()}@%h"]  # fmt: skip
        else:
            args = ["beat", "--loglevel=INFO", "--schedule", str(BASE_DIR / "var" / f"beat-{os.getpid()}")]
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.marker = " ready." if kind == "worker" else "is starting."  # beat's banner (its log lines are WARNING+)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "opsconsole", *args],
            cwd=BASE_DIR,
            env=worker_env(CELERY_BROKER_URL=broker_url, **FAST_RECOVERY, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            wait_for(self.ready.is_set, timeout=60, message=f"celery {kind} to start")
        except BaseException:
            self.stop()  # not yet in the caller's list: nobody else would stop it
            print(f"--- celery {kind} output ---\n{self.output[-4000:]}")
            raise

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if self.marker in line:
                self.ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal_group(self, signum: int) -> None:
        os.killpg(self.proc.pid, signum)

    def stop(self) -> None:
        if self.alive():
            with suppress(ProcessLookupError):
                self.signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)


@contextmanager
def processes():
    started: list[Process] = []

    def start(kind: str, broker_url: str, **env: str) -> Process:
        process = Process(kind, broker_url, **env)
        started.append(process)
        return process

    try:
        yield start
    except BaseException:
        for process in started:  # shown by pytest with the failure
            print(f"--- {' '.join(process.proc.args[3:5])} output ---\n{process.output[-4000:]}")
        raise
    finally:
        for process in started:
            process.stop()


def enqueue(channel, count: int, prefix: str) -> list[int]:
    return [notification_enqueue(channel_id=channel.pk, body=f"{prefix} {i}")[0].pk for i in range(count)]


def status_counts() -> Counter:
    return Counter(NotificationOutbox.objects.values_list("status", flat=True))


def all_sent(total: int):
    return lambda: NotificationOutbox.objects.filter(status=NotificationStatus.SENT).count() == total


def assert_each_delivered_with_its_own_id(sink, total: int) -> Counter:
    ids = set(NotificationOutbox.objects.values_list("message_id", flat=True))
    received = Counter(r.message_id for r in sink.received)
    assert set(received) == ids and len(ids) == total  # none lost, none foreign
    assert all(r.verified for r in sink.received)
    return received


def test_sigkilled_workers_lose_nothing_and_duplicates_keep_their_webhook_id(sink, redis_server):
    channel = WebhookChannelFactory(target=sink.url)
    sink.secret = channel.secret
    sink.delay = 0.2
    total = 200
    with processes() as start, publishing_to(redis_server.url):
        first = start("worker", redis_server.url)
        start("beat", redis_server.url)
        enqueue(channel, total, "kill")
        wait_for(lambda: len(sink.received) >= 40, timeout=60, message="deliveries under way")
        first.signal_group(signal.SIGKILL)  # mid-delivery: rows stay `sending` under its lease
        first.proc.wait(timeout=10)
        assert status_counts()[NotificationStatus.SENDING] > 0  # the kill left claims behind
        start("worker", redis_server.url)
        wait_for(all_sent(total), timeout=90, message="every notification sent after the kill")
    received = assert_each_delivered_with_its_own_id(sink, total)
    # A duplicate is possible (a delivery the killed worker made but never recorded) and
    # carries the same webhook-id, so the receiver can drop it.
    assert sum(received.values()) - total <= 2 * 8 + 64


def test_a_broker_outage_strands_nothing_and_enqueue_never_waits_for_it(sink, redis_server):
    channel = WebhookChannelFactory(target=sink.url)
    sink.secret = channel.secret
    sink.delay = 0.1  # deliveries in flight when the broker goes: the worker holds unacked tasks
    from django.contrib.auth import get_user_model

    client = Client()
    staff = get_user_model().objects.create_superuser("faults", "f@example.com", "pw-faults-1")
    client.force_login(staff)
    with processes() as start, publishing_to(redis_server.url):
        workers = [start("worker", redis_server.url) for _ in range(2)]
        start("beat", redis_server.url)
        enqueue(channel, 150, "before")
        wait_for(lambda: len(sink.received) >= 10, timeout=60, message="deliveries under way")
        redis_server.stop()
        took = []
        for i in range(60):
            began = time.monotonic()
            response = client.post(
                "/system/notify/", {"channel_id": channel.pk, "body": f"during {i}"}, content_type="application/json"
            )
            took.append(time.monotonic() - began)
            assert response.status_code == 201, response.content
        time.sleep(3)
        assert all(worker.alive() for worker in workers), workers[0].output[-3000:]
        redis_server.start()
        wait_for(all_sent(210), timeout=45, message="everything delivered after the broker returned")
        assert all(worker.alive() for worker in workers)  # no worker died of the outage, none restarted
    # Waiting on the broker cost every enqueue ~2.5 s; the median shows that whatever else
    # loads the machine (the test workers, the suite's other processes) at one moment.
    assert statistics.median(took) < 0.5, f"enqueues took {statistics.median(took):.2f}s (median) without a broker"
    assert max(took) < 2.0
    assert_each_delivered_with_its_own_id(sink, 210)


@pytest.mark.parametrize("whom", ["main process", "process group"])
def test_sigterm_stops_claiming_at_once_and_hands_back_every_claim(sink, redis_server, whom):
    channel = WebhookChannelFactory(target=sink.url)
    sink.secret = channel.secret
    sink.delay = 0.5
    total = 400
    with processes() as start, publishing_to(redis_server.url):
        # Small claims, so that the sweeps cannot have claimed all 400 rows when the signal comes.
        worker = start("worker", redis_server.url, OPSCONSOLE_NOTIFY_CLAIM_BATCH_SIZE="32")
        enqueue(channel, total, "term")
        celery_app.send_task("notifications.tasks.dispatch_due")
        wait_for(lambda: len(sink.received) >= 20, timeout=60, message="deliveries under way")
        began = time.monotonic()
        if whom == "main process":
            worker.proc.send_signal(signal.SIGTERM)
        else:
            worker.signal_group(signal.SIGTERM)
        worker.proc.wait(timeout=30)
        stopped_in = time.monotonic() - began
        counts = status_counts()
        assert counts[NotificationStatus.SENDING] == 0, worker.output[-3000:]  # nothing left to a lease
        assert counts[NotificationStatus.PENDING] > 0  # it stopped claiming: work remains for others
        assert stopped_in < 10, f"graceful stop took {stopped_in:.1f}s"
        start("worker", redis_server.url)
        start("beat", redis_server.url)
        wait_for(all_sent(total), timeout=120, message="the rest delivered by the next worker")
    received = assert_each_delivered_with_its_own_id(sink, total)
    assert max(received.values()) == 1  # handed back, not sent twice


def _terminate_other_backends() -> int:
    """pg_terminate_backend every other connection to the test database (workers', beat's, the web's, ours)."""
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    connection.close()  # ours was among them
    return len(rows)


def _session_cookie(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


@contextmanager
def web_server():
    """gunicorn serving the test database, as in production (persistent, health-checked connections)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "opsconsole.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=BASE_DIR,
        env=worker_env(DB_CONN_MAX_AGE="600"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _port_open(port), timeout=30, message="gunicorn listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


def test_killed_database_connections_answer_no_500_and_work_resumes(sink, redis_server):
    import httpx
    from django.contrib.auth import get_user_model

    channel = WebhookChannelFactory(target=sink.url)
    sink.secret = channel.secret
    staff = get_user_model().objects.create_superuser("dbfault", "d@example.com", "pw-dbfault-1")
    cookies = {"sessionid": _session_cookie(staff)}
    paths = ["/system/notify/", "/system/notify/channels", "/system/exports/", "/admin/", "/health"]
    with processes() as start, publishing_to(redis_server.url), web_server() as base:
        start("worker", redis_server.url)
        start("beat", redis_server.url)
        enqueue(channel, 20, "before")
        with httpx.Client(base_url=base, cookies=cookies) as http:
            for path in paths * 3:  # every gunicorn worker holds a database connection now
                assert http.get(path).status_code == 200, path
            wait_for(all_sent(20), timeout=60, message="first batch sent")
            assert _terminate_other_backends() >= 3  # gunicorn's, the celery worker's and beat's
            statuses = Counter(http.get(path).status_code for path in paths * 4)
        assert 500 not in statuses and statuses[200] > 0, statuses
        enqueue(channel, 20, "after")
        wait_for(all_sent(40), timeout=60, message="work resumed after the connections were killed")
    assert_each_delivered_with_its_own_id(sink, 40)
